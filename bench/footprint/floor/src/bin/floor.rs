//! Exec to first connect with nothing else: std's blocking connect.
fn main() {
    let url = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let _ = std::net::TcpStream::connect(url.trim_start_matches("http://"));
}
