//! Exec to first connect on a multi-thread tokio runtime, started as the CLI starts its own.
fn main() {
    let url = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let addr = url.trim_start_matches("http://").to_owned();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    rt.block_on(async move {
        let _ = tokio::net::TcpStream::connect(addr).await;
    });
    rt.shutdown_background();
}
