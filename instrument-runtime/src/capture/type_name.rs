//! Short, readable type names: `alloc::vec::Vec<app::Message>` becomes `Vec<Message>`.

/// Drops the module path of every type in `full`, keeping generics and punctuation.
///
/// ```
/// use instrument::capture::short_type_name;
/// assert_eq!(short_type_name("alloc::vec::Vec<app::model::Message>"), "Vec<Message>");
/// assert_eq!(short_type_name("&[core::option::Option<u8>]"), "&[Option<u8>]");
/// ```
pub fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    let bytes = full.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b':' if bytes.get(i + 1) == Some(&b':') => {
                i += 2;
                segment_start = i;
                continue;
            }
            b'<' | b'>' | b',' | b'&' | b'[' | b']' | b';' | b'(' | b')' | b' ' | b'*' => {
                out.push_str(&full[segment_start..i]);
                out.push(bytes[i] as char);
                segment_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&full[segment_start..]);
    out
}

/// The last path segment of the outermost type, without generics: `app::Agent<T>` gives `Agent`.
/// Returns a slice of `full`, so it allocates nothing.
pub(crate) fn base_type_name(full: &'static str) -> &'static str {
    let without_generics = full.split('<').next().unwrap_or(full);
    let without_refs = without_generics
        .trim_start_matches(['&', '*', ' '])
        .trim_start_matches("mut ");
    without_refs.rsplit("::").next().unwrap_or(without_refs)
}

/// The path of the outermost type, without generics: `app::Agent<T>` gives `app::Agent`.
pub(crate) fn type_path(full: &'static str) -> &'static str {
    full.split('<').next().unwrap_or(full)
}

/// The variant an error's `Debug` text starts with (`RowNotFound`, `PoolTimedOut`, ...), as its
/// type for `error.type` when it has no better one.
pub(crate) fn variant_name(error: &impl std::fmt::Debug) -> String {
    let debug = format!("{error:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("error")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_nested_paths() {
        assert_eq!(
            short_type_name(
                "std::collections::hash::map::HashMap<alloc::string::String, (u8, app::Id)>"
            ),
            "HashMap<String, (u8, Id)>"
        );
        assert_eq!(short_type_name("u64"), "u64");
        assert_eq!(
            short_type_name("&mut dyn core::fmt::Debug"),
            "&mut dyn Debug"
        );
    }

    #[test]
    fn base_name_of_generic_type() {
        assert_eq!(
            base_type_name("app::agents::Agent<alloc::string::String>"),
            "Agent"
        );
        assert_eq!(base_type_name("Plain"), "Plain");
        assert_eq!(type_path("app::agents::Agent<u8>"), "app::agents::Agent");
    }
}
