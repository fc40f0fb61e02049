//! The answers as the AWS CLI prints them: JSON indented by four spaces, or its `text` layout;
//! times as `2024-01-02T03:04:05+00:00`.

use crate::{Failure, Output};
use cirrus::s3::{ObjectInfo, ObjectVersion};
use serde_json::{json, Map, Value};
use std::time::SystemTime;

/// Prints `v` as `output` asks; nothing when it holds nothing (as the AWS CLI prints nothing
/// for an empty answer).
pub(super) fn print(output: Output, v: &Value) -> Result<(), Failure> {
    if v.as_object().is_some_and(Map::is_empty) {
        return Ok(());
    }
    match output {
        Output::Json => crate::output::print_json(v),
        Output::Text => {
            let mut out = String::new();
            text(v, None, None, &mut out);
            crate::output::write_stdout_bytes(out.as_bytes())
        }
    }
}

/// The AWS CLI's `--output text` (awscli/formatter.py, text.py): a structure's scalars on one
/// tab-separated line in key order (after the uppercased name of the list or structure it is
/// in), then its lists and structures; the rows of a list of structures share the keys of all.
fn text(v: &Value, identifier: Option<&str>, keys: Option<&[String]>, out: &mut String) {
    match v {
        Value::Object(map) => {
            let (mut scalars, mut nested) = (Vec::new(), Vec::new());
            match keys {
                Some(keys) => {
                    scalars.extend(keys.iter().map(|k| scalar(map.get(k).unwrap_or(&Value::Null))));
                    nested.extend(map.iter().filter(|(k, _)| !keys.contains(k)));
                }
                None => {
                    for (k, v) in map {
                        if v.is_object() || v.is_array() {
                            nested.push((k, v));
                        } else {
                            scalars.push(scalar(v));
                        }
                    }
                }
            }
            if !scalars.is_empty() {
                if let Some(id) = identifier {
                    scalars.insert(0, id.to_uppercase());
                }
                out.push_str(&scalars.join("\t"));
                out.push('\n');
            }
            for (k, v) in nested {
                text(v, Some(k), None, out);
            }
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            let mut all: Vec<String> = items
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.iter().filter(|(_, v)| !v.is_object() && !v.is_array()).map(|(k, _)| k.clone()))
                .collect();
            all.sort();
            all.dedup();
            for item in items {
                text(item, identifier, Some(&all), out);
            }
        }
        Value::Array(items) => {
            let (scalars, nested): (Vec<&Value>, Vec<&Value>) = items.iter().partition(|v| !v.is_array());
            if !scalars.is_empty() {
                match identifier {
                    Some(id) => {
                        scalars.iter().for_each(|s| out.push_str(&format!("{}\t{}\n", id.to_uppercase(), scalar(s))))
                    }
                    None => {
                        out.push_str(&scalars.iter().map(|s| scalar(s)).collect::<Vec<_>>().join("\t"));
                        out.push('\n');
                    }
                }
            }
            for n in nested {
                text(n, identifier, None, out);
            }
        }
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// A scalar as Python's `str` writes it: `True`, `None`, numbers, strings as they are.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `2024-01-02T03:04:05+00:00`, as the AWS CLI prints a time.
pub(super) fn time(t: SystemTime) -> String {
    let s = cirrus::sigv4::format_rfc3339(t);
    match s.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => s,
    }
}

/// HeadObject's (and GetObject's) answer, with the AWS CLI's names; absent fields left out.
pub(super) fn object_info(info: &ObjectInfo) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    let s = |v: &Option<String>| v.clone().map(Value::String);
    put("DeleteMarker", info.delete_marker.then_some(Value::Bool(true)));
    put("AcceptRanges", s(&info.accept_ranges));
    put("LastModified", info.last_modified.map(|t| Value::String(time(t))));
    put("ContentLength", Some(json!(info.content_length)));
    put("ETag", s(&info.etag));
    put("VersionId", s(&info.version_id));
    put("ContentRange", s(&info.content_range));
    put("CacheControl", s(&info.cache_control));
    put("ContentDisposition", s(&info.content_disposition));
    put("ContentEncoding", s(&info.content_encoding));
    put("ContentLanguage", s(&info.content_language));
    put("ContentType", s(&info.content_type));
    let expires = info.expires.as_ref().map(|e| httpdate::parse_http_date(e).map(time).unwrap_or_else(|_| e.clone()));
    put("Expires", expires.map(Value::String));
    put("ServerSideEncryption", s(&info.server_side_encryption));
    put("SSEKMSKeyId", s(&info.sse_kms_key_id));
    put("StorageClass", s(&info.storage_class));
    if let Some(c) = &info.checksum {
        put(&format!("Checksum{}", c.algorithm.as_str()), Some(Value::String(c.value.clone())));
    }
    let metadata: Map<String, Value> =
        info.metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    put("Metadata", Some(Value::Object(metadata)));
    Value::Object(m)
}

/// A version or delete marker, as ListObjectVersions' `Versions` and `DeleteMarkers` hold it.
pub(super) fn version(v: &ObjectVersion) -> Value {
    let mut m = Map::new();
    m.insert("Key".into(), json!(v.key));
    m.insert("VersionId".into(), json!(v.version_id));
    m.insert("IsLatest".into(), json!(v.is_latest));
    if let Some(t) = v.last_modified {
        m.insert("LastModified".into(), json!(time(t)));
    }
    if !v.is_delete_marker {
        m.insert("ETag".into(), json!(v.etag));
        m.insert("Size".into(), json!(v.size));
        m.insert("StorageClass".into(), json!(v.storage_class));
    }
    if v.owner_id.is_some() || v.owner_display_name.is_some() {
        let mut owner = Map::new();
        if let Some(n) = &v.owner_display_name {
            owner.insert("DisplayName".into(), json!(n));
        }
        if let Some(id) = &v.owner_id {
            owner.insert("ID".into(), json!(id));
        }
        m.insert("Owner".into(), Value::Object(owner));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_as_the_aws_cli_lays_it_out() {
        // The AWS CLI's text of the same answers (aws-cli 2.9 against moto).
        let tagging = json!({"VersionId": "v1", "TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]});
        let mut out = String::new();
        text(&tagging, None, None, &mut out);
        assert_eq!(out, "v1\nTAGSET\ta\t1\nTAGSET\tb\t2\n");
        let versions = json!({"DeleteMarkers": [{"Key": "z", "VersionId": "m", "IsLatest": true, "LastModified": "t",
            "Owner": {"DisplayName": "me", "ID": "o"}}]});
        let mut out = String::new();
        text(&versions, None, None, &mut out);
        assert_eq!(out, "DELETEMARKERS\tTrue\tz\tt\tm\nOWNER\tme\to\n");
        let mut out = String::new();
        text(&json!({"LocationConstraint": null}), None, None, &mut out);
        assert_eq!(out, "None\n");
    }
}
