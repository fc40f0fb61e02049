//! S3 to S3, server side: CopyObject below the multipart threshold, otherwise UploadPartCopy
//! ranges in parallel (the only way past CopyObject's 5 GiB), pinned to the source's ETag.

use super::ctx::{Ctx, Outcome, UploadGuard};
use super::error::joined;
use super::upload::{not_written, stop_parts};
use super::ErrorKind;
use crate::s3::{check_bucket_key, encode_query, CompletedPart, Object, S3Client};
use crate::transport::{xml, Error};
use http::Method;
use std::sync::Arc;
use tokio::task::JoinSet;

/// CopyObject's limit.
const MAX_COPY_OBJECT: u64 = 5 << 30;

impl S3Client {
    /// UploadPartCopy: bytes `first..=last` of `from_key` in `from_bucket` as part `number` of
    /// the upload, only while the source's ETag is `if_match` (when given).
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_part_copy(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        from_bucket: &str,
        from_key: &str,
        (first, last): (u64, u64),
        if_match: Option<&str>,
    ) -> Result<CompletedPart, Error> {
        const OP: &str = "UploadPartCopy";
        check_bucket_key(OP, from_bucket, from_key)?;
        check_bucket_key(OP, bucket, key)?;
        let source = self.copy_source(from_bucket, from_key, None);
        let query = format!("partNumber={number}&uploadId={}", encode_query(upload_id));
        let mut req = self
            .sse_c_source(self.sse_c(self.request(Method::PUT, self.url(bucket, key, &query), "")), false)
            .try_header(http::HeaderName::from_static("x-amz-copy-source"), &source)
            .map_err(|e| Self::input_error(OP, e))?
            .header("x-amz-copy-source-range", &format!("bytes={first}-{last}"));
        if let Some(etag) = if_match {
            req = req
                .try_header(http::HeaderName::from_static("x-amz-copy-source-if-match"), etag)
                .map_err(|e| Self::input_error(OP, e))?;
        }
        let r = self.send(bucket, OP, req).await?;
        let root = xml::parse(&r.body).map_err(|e| Self::response_error(OP, e))?;
        let etag = root
            .text_of("ETag")
            .filter(|e| !e.is_empty())
            .ok_or_else(|| Self::response_error(OP, "no ETag in the answer"))?;
        Ok(CompletedPart { number, etag: etag.to_owned(), checksum: None, size: last + 1 - first })
    }
}

pub(crate) async fn copy_object(
    ctx: &Arc<Ctx>,
    from_bucket: &str,
    from_key: &str,
    object: Option<&Object>,
    bucket: &str,
    key: &str,
) -> Outcome {
    let settings = ctx.client.settings();
    // `no_overwrite`: CopyObject's `If-None-Match` is not honoured by every store (s3s, moto),
    // so the destination is asked first; the condition still goes with the write.
    if ctx.no_overwrite() {
        match ctx.dst_exists(bucket, key).await {
            Ok(false) => {}
            Ok(true) => return Outcome::Skipped(super::Error::exists(&super::Location::s3(bucket, key))),
            Err(e) => return Outcome::Failed(e),
        }
    }
    let size = object.map(|o| o.size);
    if let Some(size) = size.filter(|s| *s < settings.multipart_threshold) {
        return single(ctx, from_bucket, from_key, bucket, key, size).await;
    }
    // Large or unknown: what the source is (size, ETag, type, metadata: a multipart copy
    // carries none of them over by itself).
    let head = {
        let _slot = match ctx.request_slot().await {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e),
        };
        match ctx.client.head_source(from_bucket, from_key).await {
            Ok(h) => h,
            Err(e) => return Outcome::Failed(e.into()),
        }
    };
    let size = head.content_length;
    if size < settings.multipart_threshold {
        return single(ctx, from_bucket, from_key, bucket, key, size).await;
    }
    // The source's type and metadata, unless the caller gave their own; a multipart copy
    // carries nothing over by itself. Part checksums come with uploads, not copies.
    let mut put = ctx.put.clone();
    if !put.replaces_metadata() {
        // COPY: everything the source has, as CopyObject would keep it.
        put.content_type = head.content_type.clone();
        put.metadata = head.metadata.clone();
        put.cache_control = head.cache_control.clone();
        put.content_disposition = head.content_disposition.clone();
        put.content_encoding = head.content_encoding.clone();
        put.content_language = head.content_language.clone();
        put.expires = head.expires.clone();
    }
    put.progress = None;
    put.checksum = None;
    put.checksum_value = None;
    let upload_id = match ctx.create_upload(bucket, key, &put).await {
        Ok(id) => id,
        Err(e) => return Outcome::Failed(e),
    };
    let guard = UploadGuard::new(ctx, bucket, key, &upload_id);
    let part_size = ctx.part_size_for(size);
    let etag = head.etag.or_else(|| object.and_then(|o| o.etag.clone()));
    let parts = copy_parts(ctx, (from_bucket, from_key), (bucket, key, &upload_id), size, part_size, etag).await;
    let completed = match parts {
        Ok(parts) => ctx.complete_upload(bucket, key, &upload_id, &parts).await,
        Err(e) => Err(e),
    };
    match completed {
        Ok(()) => {
            guard.done();
            ctx.progress(size);
            Outcome::Done(size)
        }
        Err(e) => not_written(ctx, bucket, key, guard.abort(e).await),
    }
}

async fn single(ctx: &Arc<Ctx>, from_bucket: &str, from_key: &str, bucket: &str, key: &str, size: u64) -> Outcome {
    if size > MAX_COPY_OBJECT {
        let why = "over 5 GiB: raise the multipart threshold no higher than 5 GiB";
        return Outcome::Failed(super::Error::new(ErrorKind::Other, why));
    }
    let copied = match ctx.request_slot().await {
        Ok(_slot) => {
            super::ctx::point_of_no_return();
            ctx.client.copy_with(from_bucket, from_key, bucket, key, &ctx.put).await.map_err(Into::into)
        }
        Err(e) => Err(e),
    };
    match copied {
        Ok(()) => {
            ctx.progress(size);
            Outcome::Done(size)
        }
        Err(e) => not_written(ctx, bucket, key, e),
    }
}

async fn copy_parts(
    ctx: &Arc<Ctx>,
    (from_bucket, from_key): (&str, &str),
    (bucket, key, upload_id): (&str, &str, &str),
    size: u64,
    part_size: u64,
    etag: Option<String>,
) -> Result<Vec<CompletedPart>, super::Error> {
    let count = size.div_ceil(part_size);
    let window = ctx.concurrency;
    let mut set: JoinSet<Result<CompletedPart, super::Error>> = JoinSet::new();
    let mut parts = Vec::with_capacity(count as usize);
    for index in 0..count {
        while set.len() >= window {
            if let Some(r) = set.join_next().await {
                match joined(r) {
                    Ok(p) => parts.push(p),
                    Err(e) => return Err(stop_parts(set, e).await),
                }
            }
        }
        let first = index * part_size;
        let last = first + part_size.min(size - first) - 1;
        let ctx = ctx.clone();
        let (fb, fk, b, k, id, etag) = (
            from_bucket.to_owned(),
            from_key.to_owned(),
            bucket.to_owned(),
            key.to_owned(),
            upload_id.to_owned(),
            etag.clone(),
        );
        set.spawn(async move {
            let _slot = ctx.request_slot().await?;
            let part = index as u32 + 1;
            Ok(ctx.client.upload_part_copy(&b, &k, &id, part, &fb, &fk, (first, last), etag.as_deref()).await?)
        });
    }
    while let Some(r) = set.join_next().await {
        match joined(r) {
            Ok(p) => parts.push(p),
            Err(e) => return Err(stop_parts(set, e).await),
        }
    }
    parts.sort_by_key(|p| p.number);
    Ok(parts)
}
