use super::*;

fn limits() -> Limits {
    Limits {
        max_head: 8192,
        max_headers: 100,
        max_target: 4096,
        keep_case: true,
    }
}

const REQUEST: &[u8] =
    b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: text/html, */*\r\nX-Long: one two\r\n\r\n";
const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nX-Long: one two\r\n\r\n";

/// `head` with `insert` put before octet `at`.
fn with(head: &[u8], at: usize, insert: &[u8]) -> Vec<u8> {
    let mut v = head[..at].to_vec();
    v.extend_from_slice(insert);
    v.extend_from_slice(&head[at..]);
    v
}

#[test]
fn fixtures_parse() {
    let (req, n) = parse_request(REQUEST, limits(), &mut HeadArena::default())
        .unwrap()
        .unwrap();
    assert_eq!(n, REQUEST.len());
    assert_eq!(req.head.headers.len(), 3);
    let (res, n) = parse_response(RESPONSE, limits(), &Method::GET, &mut HeadArena::default())
        .unwrap()
        .unwrap();
    assert_eq!(n, RESPONSE.len());
    assert_eq!(res.framing, Framing::Length(5));
}

/// A bare CR anywhere in a head — start line, field name, field value, between fields —
/// is an error, never a parsed head (§2.2); the parser relies on `httparse` for it.
#[test]
fn bare_cr_anywhere_is_refused() {
    // Up to the final CRLF, so the head stays whole after the insertion.
    for at in 0..REQUEST.len() - 2 {
        let input = with(REQUEST, at, b"\rX");
        let got = parse_request(&input, limits(), &mut HeadArena::default());
        assert!(
            got.is_err(),
            "request with a bare CR at {at}: {got:?} ({:?})",
            String::from_utf8_lossy(&input)
        );
    }
    for at in 0..RESPONSE.len() - 2 {
        let input = with(RESPONSE, at, b"\rX");
        let got = parse_response(&input, limits(), &Method::GET, &mut HeadArena::default());
        assert!(
            got.is_err(),
            "response with a bare CR at {at}: {got:?} ({:?})",
            String::from_utf8_lossy(&input)
        );
    }
}

/// NUL, other controls and DEL in a field value are refused; HTAB and obs-text are not.
#[test]
fn control_octets_in_values() {
    let value_at = REQUEST.windows(3).position(|w| w == b"one").unwrap();
    for ctl in (0u8..0x20).chain([0x7f]) {
        if ctl == b'\t' || ctl == b'\r' || ctl == b'\n' {
            continue;
        }
        let input = with(REQUEST, value_at + 1, &[ctl]);
        assert!(
            matches!(
                parse_request(&input, limits(), &mut HeadArena::default()),
                Err(ParseError::Malformed(_))
            ),
            "control octet {ctl:#04x}"
        );
    }
    for ok in [b'\t', 0x80, 0xff] {
        let input = with(REQUEST, value_at + 1, &[ok]);
        assert!(
            parse_request(&input, limits(), &mut HeadArena::default())
                .unwrap()
                .is_some(),
            "{ok:#04x}"
        );
    }
}

/// More fields than the stack holds take slots from the heap, up to the limit.
#[test]
fn many_fields_beyond_the_stack_slots() {
    let mut head = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
    for i in 0..199 {
        head.extend_from_slice(format!("x-{i}: {i}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let wide = Limits {
        max_headers: 200,
        ..limits()
    };
    let (req, _) = parse_request(&head, wide, &mut HeadArena::default())
        .unwrap()
        .unwrap();
    assert_eq!(req.head.headers.len(), 200);
    assert!(matches!(
        parse_request(&head, limits(), &mut HeadArena::default()),
        Err(ParseError::TooManyHeaders)
    ));
}

#[test]
fn heads_kept_while_the_arena_refills_stay_intact() {
    let mut arena = HeadArena::default();
    let mut kept = Vec::new();
    for i in 0..300 {
        // Some long enough to need a chunk of their own.
        let pad = "p".repeat(if i % 50 == 0 { 228 } else { i % 7 });
        let head =
            format!("GET /item/{i}?{pad} HTTP/1.1\r\nHost: host-{i}\r\nX-N: {i}{pad}\r\n\r\n");
        let (req, n) = parse_request(head.as_bytes(), limits(), &mut arena)
            .unwrap()
            .unwrap();
        assert_eq!(n, head.len());
        // Every third head is dropped at once, so chunks are cut from and reused.
        if i % 3 != 0 {
            kept.push((i, pad, req));
        }
    }
    for (i, pad, req) in &kept {
        assert_eq!(req.head.uri, format!("/item/{i}?{pad}").as_str());
        assert_eq!(req.head.headers["host"], format!("host-{i}").as_str());
        assert_eq!(req.head.headers["x-n"], format!("{i}{pad}").as_str());
    }
    arena.release();
    assert_eq!(arena.capacity(), 0);
}
