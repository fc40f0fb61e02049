//! Token pagination as a `Stream` (boto3's paginators): the caller never handles a continuation
//! token unless they want to.

use super::Error;
use futures_util::stream::{self, Stream, StreamExt};
use std::future::Future;

/// One page: its items and the token for the next one (`None` on the last page).
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The token that fetches the next page.
    pub next_token: Option<String>,
}

/// Pages of a token-paginated operation. `fetch` gets the token (`None` for the first page).
/// The stream ends after the page without a next token, after an error, or when the service
/// returns a token it already returned (which would otherwise loop forever: that is an error
/// too).
pub fn pages<T, F, Fut>(first_token: Option<String>, fetch: F) -> impl Stream<Item = Result<Page<T>, Error>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    struct St<F> {
        fetch: F,
        token: Option<String>,
        done: bool,
        /// Every token seen so far (a hostile server could cycle through several).
        seen: std::collections::HashSet<String>,
    }
    let seen = std::collections::HashSet::new();
    stream::unfold(St { fetch, token: first_token, done: false, seen }, |mut st| async move {
        if st.done {
            return None;
        }
        match (st.fetch)(st.token.take()).await {
            Ok(page) => {
                if let Some(t) = &page.next_token {
                    if !st.seen.insert(t.clone()) {
                        st.done = true;
                        let e = Error::response(
                            "pagination",
                            "next page",
                            "the service returned a page token it had already returned",
                        );
                        return Some((Err(e), st));
                    }
                }
                st.token = page.next_token.clone();
                st.done = st.token.is_none();
                Some((Ok(page), st))
            }
            Err(e) => {
                st.done = true;
                Some((Err(e), st))
            }
        }
    })
}

/// The items of every page, one at a time.
pub fn items<T, F, Fut>(first_token: Option<String>, fetch: F) -> impl Stream<Item = Result<T, Error>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    pages(first_token, fetch).flat_map(|page| match page {
        Ok(p) => stream::iter(p.items.into_iter().map(Ok).collect::<Vec<_>>()),
        Err(e) => stream::iter(vec![Err(e)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn follows_tokens_to_the_end() {
        let got: Vec<u32> = block(
            items(None, |t: Option<String>| async move {
                let n: u32 = t.as_deref().unwrap_or("0").parse().unwrap();
                let next = (n < 4).then(|| (n + 2).to_string());
                Ok(Page { items: vec![n, n + 1], next_token: next })
            })
            .map(|r| r.unwrap())
            .collect(),
        );
        assert_eq!(got, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_repeated_token_ends_with_an_error() {
        let got: Vec<Result<Page<u8>, Error>> =
            block(pages(None, |_| async { Ok(Page { items: vec![1], next_token: Some("same".into()) }) }).collect());
        assert_eq!(got.len(), 2);
        assert!(got[1].as_ref().unwrap_err().to_string().contains("already returned"));
    }

    #[test]
    fn a_cycle_of_tokens_ends_with_an_error() {
        // a -> b -> a: no two pages in a row share a token, but the listing would never end.
        let got: Vec<Result<Page<u8>, Error>> = block(
            pages(None, |t: Option<String>| async move {
                let next = if t.as_deref() == Some("a") { "b" } else { "a" };
                Ok(Page { items: vec![1], next_token: Some(next.into()) })
            })
            .collect(),
        );
        assert_eq!(got.len(), 3, "pages: first (-> a), a (-> b), b (-> a again: error)");
        assert!(got[..2].iter().all(Result::is_ok));
        assert!(got[2].as_ref().unwrap_err().to_string().contains("already returned"));
    }
}
