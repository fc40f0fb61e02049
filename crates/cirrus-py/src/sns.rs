//! `SnsClient` and `AsyncSnsClient`: publish, and the topic and subscription calls a test or a
//! set-up script needs, over `cirrus::sns::SnsClient`. (Verifying what SNS posts to a webhook
//! is `sns_verify.rs`.)

use crate::config::{PerProcess, PyConfig};
use crate::errors::Failure;
use crate::s3::{awaitable, blocking};
use cirrus::sns::{AttributeValue, PublishOptions, SnsClient};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyTuple};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySnsClient>()?;
    m.add_class::<AsyncSnsClient>()?;
    Ok(())
}

/// An argument refused before anything was sent: `ParamValidationError` (a ValueError).
fn invalid(message: impl Into<String>) -> PyErr {
    Python::attach(|py| Failure::Input(message.into()).into_py_err(py))
}

/// The config, and the Rust client made from it once per process.
struct Shared {
    config: Py<PyConfig>,
    client: PerProcess<SnsClient>,
}

impl Shared {
    fn new(py: Python<'_>, config: Option<Py<PyConfig>>) -> PyResult<Self> {
        let config = match config {
            Some(c) => c,
            None => py.import("cirrus_aws")?.getattr("Config")?.call0()?.extract()?,
        };
        let shared = Shared { config, client: PerProcess::default() };
        shared.client(py)?;
        Ok(shared)
    }

    fn client(&self, py: Python<'_>) -> PyResult<SnsClient> {
        self.client.get_or_try(|| Ok(SnsClient::new(&self.config.get().load()?)?)).map_err(|f| f.into_py_err(py))
    }
}

/// A message attribute: str is `String`, int and float `Number`, bytes `Binary`, a list or
/// tuple `String.Array` (as JSON); boto3's `{"DataType": ..., "StringValue" | "BinaryValue":
/// ...}` is taken as it is.
fn attribute(name: &str, value: &Bound<'_, PyAny>) -> PyResult<AttributeValue> {
    if let Ok(d) = value.cast::<PyDict>() {
        let data_type: String = d
            .get_item("DataType")?
            .ok_or_else(|| invalid(format!("message attribute {name:?}: no DataType")))?
            .extract()?;
        if let Some(b) = d.get_item("BinaryValue")? {
            return Ok(AttributeValue::Binary(bytes_of(name, &b)?));
        }
        let text: String = d
            .get_item("StringValue")?
            .ok_or_else(|| invalid(format!("message attribute {name:?}: no StringValue or BinaryValue")))?
            .extract()?;
        return match data_type.split('.').next().unwrap_or_default() {
            "String" if data_type == "String.Array" => Ok(AttributeValue::StringArray(text)),
            "String" => Ok(AttributeValue::String(text)),
            "Number" => Ok(AttributeValue::Number(text)),
            _ => Err(invalid(format!(
                "message attribute {name:?}: DataType {data_type:?} is not String, Number, String.Array or Binary"
            ))),
        };
    }
    if value.cast::<PyBool>().is_ok() {
        return Err(invalid(format!("message attribute {name:?}: a bool is not an SNS type (use \"true\" or 1)")));
    }
    if let Ok(s) = value.extract::<String>() {
        return Ok(AttributeValue::String(s));
    }
    if value.cast::<PyInt>().is_ok() || value.cast::<PyFloat>().is_ok() {
        return Ok(AttributeValue::Number(value.str()?.extract()?));
    }
    if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
        let json: String = value.py().import("json")?.call_method1("dumps", (value,))?.extract()?;
        return Ok(AttributeValue::StringArray(json));
    }
    Ok(AttributeValue::Binary(bytes_of(name, value)?))
}

fn bytes_of(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    Err(invalid(format!(
        "message attribute {name:?}: {} is not str, int, float, bytes, a list or a dict with DataType",
        value.get_type().name()?
    )))
}

fn publish_options(
    subject: Option<String>,
    message_attributes: Option<&Bound<'_, PyDict>>,
    message_group_id: Option<String>,
    message_deduplication_id: Option<String>,
) -> PyResult<PublishOptions> {
    let mut options = PublishOptions::default();
    options.subject = subject;
    options.message_group_id = message_group_id;
    options.message_deduplication_id = message_deduplication_id;
    for (k, v) in message_attributes.into_iter().flat_map(|d| d.iter()) {
        let name: String = k.extract()?;
        let value = attribute(&name, &v)?;
        options.attributes.push((name, value));
    }
    Ok(options)
}

mod ops {
    use super::*;

    pub(super) async fn publish(
        sns: SnsClient,
        topic_arn: String,
        message: String,
        options: PublishOptions,
    ) -> Result<String, Failure> {
        Ok(sns.publish(&topic_arn, &message, &options).await?)
    }

    pub(super) async fn create_topic(sns: SnsClient, name: String) -> Result<String, Failure> {
        Ok(sns.create_topic(&name).await?)
    }

    pub(super) async fn delete_topic(sns: SnsClient, topic_arn: String) -> Result<(), Failure> {
        Ok(sns.delete_topic(&topic_arn).await?)
    }

    pub(super) async fn subscribe(
        sns: SnsClient,
        topic_arn: String,
        protocol: String,
        endpoint: String,
    ) -> Result<String, Failure> {
        Ok(sns.subscribe(&topic_arn, &protocol, &endpoint).await?)
    }
}

/// SNS: publish to a topic. Blocking: each call lets go of the GIL while it waits.
#[pyclass(frozen, module = "cirrus_aws", name = "SnsClient")]
pub(crate) struct PySnsClient(Shared);

/// The same client for asyncio: every method returns an awaitable.
#[pyclass(frozen, module = "cirrus_aws", name = "AsyncSnsClient")]
pub(crate) struct AsyncSnsClient(Shared);

macro_rules! sns_methods {
    ($client:ident, $run:ident, $out:ty) => {
        #[pymethods]
        impl $client {
            #[new]
            #[pyo3(signature = (config=None))]
            fn new(py: Python<'_>, config: Option<Py<PyConfig>>) -> PyResult<Self> {
                Ok($client(Shared::new(py, config)?))
            }

            /// The Config this client was made from.
            #[getter]
            fn config(&self, py: Python<'_>) -> Py<PyConfig> {
                self.0.config.clone_ref(py)
            }

            /// Publish: returns the message id. `message_attributes` maps names to str, int,
            /// float, bytes, a list (String.Array) or boto3's `{"DataType": ..., ...}`.
            #[pyo3(signature = (topic_arn, message, *, subject=None, message_attributes=None, message_group_id=None, message_deduplication_id=None))]
            #[allow(clippy::too_many_arguments)]
            fn publish<'py>(
                &self,
                py: Python<'py>,
                topic_arn: String,
                message: String,
                subject: Option<String>,
                message_attributes: Option<&Bound<'py, PyDict>>,
                message_group_id: Option<String>,
                message_deduplication_id: Option<String>,
            ) -> PyResult<$out> {
                let options =
                    publish_options(subject, message_attributes, message_group_id, message_deduplication_id)?;
                $run(py, ops::publish(self.0.client(py)?, topic_arn, message, options), None)
            }

            /// CreateTopic (idempotent): the topic's ARN.
            fn create_topic<'py>(&self, py: Python<'py>, name: String) -> PyResult<$out> {
                $run(py, ops::create_topic(self.0.client(py)?, name), None)
            }

            /// DeleteTopic.
            fn delete_topic<'py>(&self, py: Python<'py>, topic_arn: String) -> PyResult<$out> {
                $run(py, ops::delete_topic(self.0.client(py)?, topic_arn), None)
            }

            /// Subscribe (`protocol`: https, http, email, sqs, lambda...): the subscription ARN.
            fn subscribe<'py>(
                &self,
                py: Python<'py>,
                topic_arn: String,
                protocol: String,
                endpoint: String,
            ) -> PyResult<$out> {
                $run(py, ops::subscribe(self.0.client(py)?, topic_arn, protocol, endpoint), None)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                Ok(format!("{}({})", stringify!($client).trim_start_matches("Py"), self.0.config.bind(py).repr()?))
            }
        }
    };
}

sns_methods!(PySnsClient, blocking, Py<PyAny>);
sns_methods!(AsyncSnsClient, awaitable, Bound<'py, PyAny>);
