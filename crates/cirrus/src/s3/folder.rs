//! Keys that name folders. S3 has no folders, only keys; the AWS CLI's convention, which cirrus
//! follows everywhere, is that a key ending in `/` (or the empty key, the bucket's root) names
//! the folder of every key under it rather than one object.

/// Whether `key` names a folder rather than one object: the bucket's root (`""`) or a key
/// ending in `/`. Such a key cannot be where one object is read from or written to (the AWS CLI
/// writes into it under the source's name instead).
///
/// ```
/// use cirrus::s3::is_folder_key;
///
/// assert!(is_folder_key(""));
/// assert!(is_folder_key("reports/2024/"));
/// assert!(!is_folder_key("reports/2024"));
/// ```
pub fn is_folder_key(key: &str) -> bool {
    key.is_empty() || key.ends_with('/')
}

/// `key` as the folder it names in a recursive command: `data` is `data/`, so that
/// `rm --recursive s3://b/data` never touches `database.csv`. The root (`""`) and a key that
/// already ends in `/` stay as they are.
///
/// ```
/// use cirrus::s3::folder_key;
///
/// assert_eq!(folder_key("data"), "data/");
/// assert_eq!(folder_key("data/"), "data/");
/// assert_eq!(folder_key(""), "");
/// ```
pub fn folder_key(key: &str) -> String {
    if is_folder_key(key) {
        key.to_owned()
    } else {
        format!("{key}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_root_and_trailing_slashes_are_folders() {
        for (key, folder) in [("", true), ("/", true), ("a//", true), ("a", false), ("a/b", false), ("/a", false)] {
            assert_eq!(is_folder_key(key), folder, "{key:?}");
            let as_folder = folder_key(key);
            assert!(is_folder_key(&as_folder), "{key:?} -> {as_folder:?}");
            assert_eq!(as_folder == key, folder, "{key:?}");
        }
        assert_eq!(folder_key("a/b"), "a/b/");
    }
}
