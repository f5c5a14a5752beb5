//! Server-sent events read as their bytes arrive: lines split across chunks are joined, the
//! `data:` lines of an event are joined with newlines, and a blank line ends the event. Other
//! fields (`event:`, `id:`, `retry:`) and comments are skipped. A line longer than
//! [`MAX_LINE`] is dropped whole, so a hostile stream costs bounded memory.

/// Longest line kept, in bytes.
pub(super) const MAX_LINE: usize = 1 << 20;

/// The state between chunks: the unfinished line and the data of the unfinished event.
#[derive(Debug, Default)]
pub(super) struct EventStream {
    line: Vec<u8>,
    data: Vec<u8>,
    /// The current line outgrew [`MAX_LINE`]: skipped up to its end.
    skipping: bool,
}

impl EventStream {
    /// Reads `bytes`, calling `event` with the data of every event they complete.
    pub(super) fn feed(&mut self, mut bytes: &[u8], event: &mut impl FnMut(&str)) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            self.take_line_part(&bytes[..end]);
            self.end_line(event);
            bytes = &bytes[end + 1..];
        }
        self.take_line_part(bytes);
    }

    /// The end of the stream: an event left without its blank line still counts.
    pub(super) fn finish(&mut self, event: &mut impl FnMut(&str)) {
        if !self.line.is_empty() {
            self.end_line(event);
        }
        self.dispatch(event);
    }

    fn take_line_part(&mut self, part: &[u8]) {
        if self.skipping {
            return;
        }
        if self.line.len() + part.len() > MAX_LINE {
            self.line.clear();
            self.skipping = true;
            return;
        }
        self.line.extend_from_slice(part);
    }

    fn end_line(&mut self, event: &mut impl FnMut(&str)) {
        if std::mem::take(&mut self.skipping) {
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.is_empty() {
            self.dispatch(event);
        } else if let Some(value) = line.strip_prefix(b"data:") {
            if !self.data.is_empty() {
                self.data.push(b'\n');
            }
            let value = value.strip_prefix(b" ").unwrap_or(value);
            if self.data.len() + value.len() <= MAX_LINE {
                self.data.extend_from_slice(value);
            }
        }
        line.clear();
        self.line = line;
    }

    fn dispatch(&mut self, event: &mut impl FnMut(&str)) {
        if self.data.is_empty() {
            return;
        }
        if let Ok(data) = std::str::from_utf8(&self.data) {
            event(data);
        }
        self.data.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<String> {
        let mut stream = EventStream::default();
        let mut seen = Vec::new();
        let mut push = |data: &str| seen.push(data.to_owned());
        for chunk in chunks {
            stream.feed(chunk, &mut push);
        }
        stream.finish(&mut push);
        seen
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let whole =
            b"data: {\"a\":1}\n\n: comment\nevent: x\ndata: {\"b\":2}\r\n\r\ndata: [DONE]\n\n";
        let expected = ["{\"a\":1}", "{\"b\":2}", "[DONE]"];
        assert_eq!(events(&[whole]), expected);
        for cut in 1..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(events(&[a, b]), expected, "cut at {cut}");
        }
    }

    #[test]
    fn data_lines_join_and_a_last_event_counts_without_its_blank_line() {
        assert_eq!(
            events(&[b"data: one\ndata:two\n\ndata: last"]),
            ["one\ntwo", "last"]
        );
    }

    #[test]
    fn an_oversized_line_is_dropped_and_the_stream_goes_on() {
        let mut huge = b"data: ".to_vec();
        huge.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
        huge.extend_from_slice(b"\n\ndata: after\n\n");
        assert_eq!(events(&[&huge[..1000], &huge[1000..]]), ["after"]);
    }
}
