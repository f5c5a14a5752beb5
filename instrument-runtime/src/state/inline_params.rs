//! Parameters kept in a span record itself: their text (or an integer's value) in a fixed
//! buffer, so a call's parameters cost no allocation on the calling thread; the collector turns
//! them into attributes.

use opentelemetry::KeyValue;

/// Bytes of parameter text a record keeps inline; longer texts become ordinary attributes.
pub(crate) const INLINE_TEXT_BYTES: usize = 128;
/// Parameters a record keeps inline; more become ordinary attributes.
pub(crate) const INLINE_PARAMS: usize = 4;
/// Bytes an inline integer takes (the capture writes them in place).
pub(crate) const INLINE_INTEGER_BYTES: usize = 8;

/// Parameter attributes whose text is kept in the record itself.
#[derive(Debug)]
pub(super) struct InlineParams {
    text: [u8; INLINE_TEXT_BYTES],
    text_len: u16,
    /// Key, start and end of the bytes, and what the bytes are, of each parameter kept inline.
    entries: [(&'static str, u16, u16, Inline); INLINE_PARAMS],
    count: u8,
    /// How many ordinary attributes come before the inline ones.
    at: u16,
}

/// What an inline parameter's bytes are: its text, or an integer's 8 bytes (little-endian),
/// whose digits are written when the span is converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Inline {
    Text,
    Unsigned,
    Signed,
}

impl InlineParams {
    pub(super) const EMPTY: Self = Self {
        text: [0; INLINE_TEXT_BYTES],
        text_len: 0,
        entries: [("", 0, 0, Inline::Text); INLINE_PARAMS],
        count: 0,
        at: 0,
    };

    /// Forgets every parameter (the text is overwritten as parameters are added).
    pub(super) fn clear(&mut self) {
        self.text_len = 0;
        self.count = 0;
        self.at = 0;
    }

    /// Parameters kept.
    pub(super) fn count(&self) -> usize {
        usize::from(self.count)
    }

    /// How many ordinary attributes come before the inline ones.
    pub(super) fn at(&self) -> usize {
        usize::from(self.at)
    }

    /// The free part of the buffer.
    pub(super) fn room(&mut self) -> &mut [u8] {
        &mut self.text[usize::from(self.text_len)..]
    }

    /// Keeps the first `len` bytes of the [`room`](Self::room) as parameter `key`, after
    /// `attributes_before` ordinary attributes when it is the first.
    pub(super) fn commit(
        &mut self,
        key: &'static str,
        len: usize,
        inline: Inline,
        attributes_before: usize,
    ) {
        if self.count == 0 {
            self.at = attributes_before as u16;
        }
        let start = self.text_len;
        let end = start + len as u16;
        self.entries[usize::from(self.count)] = (key, start, end, inline);
        self.text_len = end;
        self.count += 1;
    }

    /// Parameter `index` as an attribute: its text, or an integer's digits.
    pub(super) fn get(&self, index: usize) -> KeyValue {
        let (key, start, end, inline) = self.entries[index];
        let bytes = &self.text[usize::from(start)..usize::from(end)];
        let integer = <[u8; INLINE_INTEGER_BYTES]>::try_from(bytes).unwrap_or_default();
        let mut digits = itoa::Buffer::new();
        let text = match inline {
            Inline::Text => std::str::from_utf8(bytes).unwrap_or_default(),
            Inline::Unsigned => digits.format(u64::from_le_bytes(integer)),
            Inline::Signed => digits.format(i64::from_le_bytes(integer)),
        };
        // Shared, not owned: the export keeps a copy of each batch to retry, and a shared text
        // is copied by a count.
        KeyValue::new(key, std::sync::Arc::<str>::from(text))
    }
}
