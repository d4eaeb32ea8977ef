//! Byte scans over whole messages (line ends, CRLF pairs) that run on vector instructions:
//! single bytes through memchr, the rest written so that the compiler vectorises them (a message
//! is scanned in blocks, and only the block that holds a match is searched byte by byte).
//! Canonicalisation, line-ending repair and the reading of signatures spend their time here.

/// The width of one block: two AVX2 registers, or four SSE2 ones.
const BLOCK: usize = 32;

/// The index of the first `needle`. memchr's search is vectorised by hand and handles the
/// short tag values signatures are split into better than the generic block loop.
pub(crate) fn byte(haystack: &[u8], needle: u8) -> Option<usize> {
    memchr::memchr(needle, haystack)
}

/// The index of the first space, tab, CR or LF: folding white space in tag values. Each block
/// is first tested for any byte up to a space, one comparison per byte that compiles to vector
/// compares (a test for the four bytes themselves compiles to shuffles that cost more than the
/// search); only a block that passes is searched for the four bytes, and one whose low bytes are
/// other control characters is passed over.
pub(crate) fn folding_white_space(haystack: &[u8]) -> Option<usize> {
    let is_fws = |byte: u8| matches!(byte, b' ' | b'\t' | b'\r' | b'\n');
    let mut blocks = haystack.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in blocks.by_ref() {
        let mut low = false;
        for &byte in block {
            low |= byte <= b' ';
        }
        if low && let Some(at) = block.iter().position(|&byte| is_fws(byte)) {
            return Some(offset + at);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&byte| is_fws(byte))
        .map(|at| offset + at)
}

/// The index of the first CR or LF.
pub(crate) fn line_break(haystack: &[u8]) -> Option<usize> {
    memchr::memchr2(b'\r', b'\n', haystack)
}

/// The index of the first CRLF pair (of its CR). A bare CR or LF is an ordinary byte here.
pub(crate) fn crlf(haystack: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\n', &haystack[from..]) {
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
        // Other control bytes, in a block of their own or before the white space in one, are
        // not white space.
        let mut controls = vec![b'A'; 80];
        controls[2] = 0x0b;
        controls[10] = 0x00;
        controls[36] = 0x1f;
        assert_eq!(folding_white_space(&controls), None);
        controls[50] = b'\t';
        assert_eq!(folding_white_space(&controls), Some(50));
        controls[37] = b' ';
        assert_eq!(folding_white_space(&controls), Some(37));
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
