//! Byte scans over whole messages (line ends, CRLF pairs) written so that the compiler turns
//! them into vector instructions: a message is scanned in blocks, and only the block that holds
//! a match is searched byte by byte. Canonicalisation and line-ending repair spend their time
//! here on large bodies.

/// The width of one block: two AVX2 registers, or four SSE2 ones.
const BLOCK: usize = 32;

/// The index of the first byte for which `matches` holds. `matches` must be cheap and free of
/// branches, so that the test over a block vectorises: each block gives a bit mask of its
/// matches (a compare and a mask extraction per register), whose lowest set bit is the answer.
fn position(haystack: &[u8], matches: impl Fn(u8) -> bool) -> Option<usize> {
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in blocks.by_ref() {
        let mut mask = 0u32;
        for (index, &byte) in block.iter().enumerate() {
            mask |= u32::from(matches(byte)) << index;
        }
        if mask != 0 {
            return Some(offset + mask.trailing_zeros() as usize);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&byte| matches(byte))
        .map(|at| offset + at)
}

/// The index of the first `needle`.
pub(crate) fn byte(haystack: &[u8], needle: u8) -> Option<usize> {
    position(haystack, |byte| byte == needle)
}

/// The index of the first space, tab, CR or LF: folding white space in tag values.
pub(crate) fn folding_white_space(haystack: &[u8]) -> Option<usize> {
    position(haystack, |byte| {
        (byte == b' ') | (byte == b'\t') | (byte == b'\r') | (byte == b'\n')
    })
}

/// The index of the first CR or LF.
pub(crate) fn line_break(haystack: &[u8]) -> Option<usize> {
    position(haystack, |byte| (byte == b'\r') | (byte == b'\n'))
}

/// The index of the first CRLF pair (of its CR). A bare CR or LF is an ordinary byte here.
pub(crate) fn crlf(haystack: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = position(&haystack[from..], |byte| byte == b'\n') {
        let newline = from + at;
        if newline > 0 && haystack[newline - 1] == b'\r' {
            return Some(newline - 1);
        }
        from = newline + 1;
    }
    None
}

/// Whether every CR is followed by LF and every LF preceded by CR: the text needs no repair.
pub(crate) fn is_crlf_only(text: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (text.first(), text.last()) else {
        return true;
    };
    if first == b'\n' || last == b'\r' {
        return false;
    }
    // Each byte beside the next: a CR must have an LF after it, and an LF a CR before it.
    let current = &text[..text.len() - 1];
    let next = &text[1..];
    let unpaired = |byte: u8, following: u8| u8::from(byte == b'\r') ^ u8::from(following == b'\n');
    let mut current_blocks = current.chunks_exact(BLOCK);
    let mut next_blocks = next.chunks_exact(BLOCK);
    for (block, following) in current_blocks.by_ref().zip(next_blocks.by_ref()) {
        let mut found = 0u8;
        for index in 0..BLOCK {
            found |= unpaired(block[index], following[index]);
        }
        if found != 0 {
            return false;
        }
    }
    current_blocks
        .remainder()
        .iter()
        .zip(next_blocks.remainder())
        .all(|(&byte, &following)| unpaired(byte, following) == 0)
}

/// Whether relaxed body canonicalisation changes this line (which holds no CRLF): it has a tab,
/// two white-space bytes in a row, or white space at its end.
pub(crate) fn needs_relaxing(line: &[u8]) -> bool {
    let Some(&last) = line.last() else {
        return false;
    };
    matches!(last, b' ' | b'\t')
        || line
            .iter()
            .zip(&line[1..])
            .fold(false, |found, (&byte, &next)| {
                found | (byte == b'\t') | ((byte == b' ') & ((next == b' ') | (next == b'\t')))
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_line_breaks_in_and_after_blocks() {
        let mut long = vec![b'a'; 70];
        assert_eq!(line_break(&long), None);
        long[65] = b'\n';
        assert_eq!(line_break(&long), Some(65));
        long[33] = b'\r';
        assert_eq!(line_break(&long), Some(33));
        assert_eq!(line_break(b""), None);
    }

    #[test]
    fn finds_a_byte_in_and_after_blocks() {
        let mut long = vec![b'a'; 70];
        assert_eq!(byte(&long, b';'), None);
        long[69] = b';';
        assert_eq!(byte(&long, b';'), Some(69));
        long[32] = b';';
        assert_eq!(byte(&long, b';'), Some(32));
        long[0] = b';';
        assert_eq!(byte(&long, b';'), Some(0));
        assert_eq!(byte(b"", b';'), None);
    }

    #[test]
    fn finds_folding_white_space_in_and_after_blocks() {
        let mut long = vec![b'A'; 80];
        assert_eq!(folding_white_space(&long), None);
        for (at, white) in [(75, b'\n'), (40, b'\r'), (33, b'\t'), (5, b' ')] {
            long[at] = white;
            assert_eq!(folding_white_space(&long), Some(at));
        }
    }

    #[test]
    fn finds_crlf_pairs_only() {
        assert_eq!(crlf(b"a\nb\rc\r\n"), Some(5));
        assert_eq!(crlf(b"\r\n"), Some(0));
        assert_eq!(crlf(b"\n\r"), None);
        assert_eq!(crlf(b""), None);
        let mut long = vec![b'x'; 100];
        long[31] = b'\r';
        long[32] = b'\n';
        assert_eq!(crlf(&long), Some(31));
    }

    #[test]
    fn crlf_only_texts() {
        assert!(is_crlf_only(b""));
        assert!(is_crlf_only(b"a\r\nb\r\n"));
        assert!(is_crlf_only(b"no line end"));
        assert!(!is_crlf_only(b"\n"));
        assert!(!is_crlf_only(b"\r"));
        assert!(!is_crlf_only(b"a\nb"));
        assert!(!is_crlf_only(b"a\rb"));
        assert!(!is_crlf_only(b"a\r\r\n"));
        assert!(!is_crlf_only(b"a\r\n\n"));
    }

    #[test]
    fn lines_that_relaxing_changes() {
        assert!(!needs_relaxing(b""));
        assert!(!needs_relaxing(b"one two three"));
        assert!(!needs_relaxing(b" leading space stays one space"));
        assert!(needs_relaxing(b"two  spaces"));
        assert!(needs_relaxing(b"a\ttab"));
        assert!(needs_relaxing(b"space then tab \t"));
        assert!(needs_relaxing(b"trailing "));
        assert!(needs_relaxing(b"\t"));
    }
}
