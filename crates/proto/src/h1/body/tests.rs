//! Chunked and length framing vectors (RFC 9112 §6, §7.1), including the request-smuggling
//! classes of chunk-size lines.

use bytes::BytesMut;

use super::*;

const LIMITS: ChunkLimits = ChunkLimits {
    max_extensions: 64,
    max_trailers: 128,
    max_trailer_fields: 4,
};

/// Decodes `input` fully; returns the body, the trailers, or the error.
fn decode_all(framing: Framing, input: &[u8]) -> Result<(Vec<u8>, Option<HeaderMap>), ParseError> {
    let mut decoder = Decoder::new(framing, LIMITS);
    let mut src = BytesMut::from(input);
    let mut body = Vec::new();
    loop {
        match decoder.decode(&mut src)? {
            Decoded::Data(d) => body.extend_from_slice(&d),
            Decoded::End(t) => return Ok((body, t)),
            Decoded::NeedMore => return Err(ParseError::IncompleteMessage),
        }
    }
}

#[test]
fn chunked_valid_vectors_decode_rfc9112_s7_1() {
    let cases: &[(&str, &[u8], &[u8])] = &[
        (
            "two chunks",
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            b"hello world",
        ),
        (
            "uppercase hex",
            b"A\r\n0123456789\r\n0\r\n\r\n",
            b"0123456789",
        ),
        ("16 digits", b"0000000000000003\r\nabc\r\n0\r\n\r\n", b"abc"),
        ("extension", b"3;name=value\r\nabc\r\n0\r\n\r\n", b"abc"),
        (
            "whitespace before extension",
            b"3 ;x\r\nabc\r\n0\r\n\r\n",
            b"abc",
        ),
        (
            "bare LF lines (documented decision)",
            b"3\nabc\n0\n\n",
            b"abc",
        ),
    ];
    for (name, input, body) in cases {
        let (got, trailers) =
            decode_all(Framing::Chunked, input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&got, body, "{name}");
        assert!(trailers.is_none(), "{name}");
    }
}

#[test]
fn chunked_invalid_size_lines_are_rejected_rfc9112_s7_1() {
    let cases: &[(&str, &[u8])] = &[
        ("0x prefix", b"0x5\r\nhello\r\n0\r\n\r\n"),
        ("plus sign", b"+5\r\nhello\r\n0\r\n\r\n"),
        ("leading space", b" 5\r\nhello\r\n0\r\n\r\n"),
        ("17 digits", b"00000000000000005\r\nhello\r\n0\r\n\r\n"),
        (
            "overflow in 16 digits is fine but value too big later",
            b"fffffffffffffffff\r\n",
        ),
        (
            "trailing space without extension",
            b"5 \r\nhello\r\n0\r\n\r\n",
        ),
        ("bare CR in size line", b"5\rX\nhello\r\n0\r\n\r\n"),
        ("no CRLF after data", b"5\r\nhelloX\r\n0\r\n\r\n"),
        ("bare CR after data", b"5\r\nhello\rX0\r\n\r\n"),
        ("empty size", b"\r\nhello\r\n0\r\n\r\n"),
        (
            "control char in extension",
            b"5;a\x01b\r\nhello\r\n0\r\n\r\n",
        ),
    ];
    for (name, input) in cases {
        let result = decode_all(Framing::Chunked, input);
        assert!(
            matches!(result, Err(ParseError::InvalidChunk(_))),
            "{name}: {result:?}"
        );
        assert_eq!(
            result.unwrap_err().status(),
            http::StatusCode::BAD_REQUEST,
            "{name}"
        );
    }
}

#[test]
fn chunked_missing_terminal_chunk_is_incomplete() {
    let mut decoder = Decoder::new(Framing::Chunked, LIMITS);
    let mut src = BytesMut::from(&b"3\r\nabc\r\n"[..]);
    assert_eq!(
        decoder.decode(&mut src).unwrap(),
        Decoded::Data("abc".into())
    );
    assert_eq!(decoder.decode(&mut src).unwrap(), Decoded::NeedMore);
    assert_eq!(decoder.decode_eof(), Err(ParseError::IncompleteMessage));
}

#[test]
fn chunked_extensions_over_budget_are_rejected_rfc9112_s7_1_1() {
    let mut input = Vec::new();
    for _ in 0..10 {
        input.extend_from_slice(b"1;0123456789\r\nx\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(
        decode_all(Framing::Chunked, &input),
        Err(ParseError::ChunkExtensionsTooLarge)
    );
    // A size line that never ends is cut off at the budget, without buffering more.
    let endless = [b'1'; 200];
    let mut decoder = Decoder::new(Framing::Chunked, LIMITS);
    assert_eq!(
        decoder.decode(&mut BytesMut::from(&endless[..])),
        Err(ParseError::ChunkExtensionsTooLarge)
    );
}

#[test]
fn chunked_trailers_are_parsed_and_bounded_rfc9112_s7_1_2() {
    let (body, trailers) = decode_all(
        Framing::Chunked,
        b"3\r\nabc\r\n0\r\nx-sum: 1\r\nx-more: 2\r\n\r\n",
    )
    .unwrap();
    assert_eq!(body, b"abc");
    let trailers = trailers.unwrap();
    assert_eq!(trailers["x-sum"], "1");
    assert_eq!(trailers.len(), 2);
    let mut big = b"0\r\n".to_vec();
    for i in 0..10 {
        big.extend_from_slice(format!("x-field-{i}: 0123456789\r\n").as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    assert_eq!(
        decode_all(Framing::Chunked, &big),
        Err(ParseError::TrailersTooLarge)
    );
    let many = b"0\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\ne: 5\r\n\r\n";
    assert_eq!(
        decode_all(Framing::Chunked, many),
        Err(ParseError::TrailersTooLarge)
    );
}

#[test]
fn length_body_stops_at_content_length_and_leaves_the_rest() {
    let mut decoder = Decoder::new(Framing::Length(5), LIMITS);
    let mut src = BytesMut::from(&b"helloGET / HTTP/1.1"[..]);
    assert_eq!(
        decoder.decode(&mut src).unwrap(),
        Decoded::Data("hello".into())
    );
    assert!(decoder.is_done() || decoder.remaining() == Some(0));
    assert_eq!(&src[..], b"GET / HTTP/1.1");
}

#[test]
fn close_delimited_body_ends_at_eof() {
    let mut decoder = Decoder::new(Framing::Close, LIMITS);
    let mut src = BytesMut::from(&b"all of it"[..]);
    assert_eq!(
        decoder.decode(&mut src).unwrap(),
        Decoded::Data("all of it".into())
    );
    assert_eq!(decoder.decode_eof(), Ok(Decoded::End(None)));
}

#[test]
fn encoder_frames_chunks_and_checks_content_length() {
    let mut enc = Encoder::Chunked;
    let mut out = BytesMut::new();
    enc.count(5).unwrap();
    enc.write_before(5, &mut out);
    out.extend_from_slice(b"hello");
    out.extend_from_slice(enc.after(5));
    let mut trailers = HeaderMap::new();
    trailers.insert("x-sum", "9".parse().unwrap());
    enc.check_end(Some(&trailers)).unwrap();
    enc.write_end(Some(&trailers), &mut out);
    assert_eq!(&out[..], b"5\r\nhello\r\n0\r\nx-sum: 9\r\n\r\n");
    let mut enc = Encoder::Length(3);
    assert!(enc.count(4).is_err());
    enc.count(2).unwrap();
    assert!(enc.check_end(None).is_err());
    assert!(enc.check_end(Some(&trailers)).is_err());
    enc.count(1).unwrap();
    enc.check_end(None).unwrap();
    let mut none = BytesMut::new();
    enc.write_before(1, &mut none);
    enc.write_end(None, &mut none);
    assert!(none.is_empty());
    assert!(Encoder::Empty.count(1).is_err());
}

#[test]
fn chunk_sizes_are_lowercase_hex_without_leading_zeros() {
    for (len, line) in [
        (1, "1"),
        (15, "f"),
        (16, "10"),
        (255, "ff"),
        (4096, "1000"),
        (0xabcdef, "abcdef"),
    ] {
        let mut out = BytesMut::new();
        Encoder::Chunked.write_before(len, &mut out);
        assert_eq!(&out[..], format!("{line}\r\n").as_bytes());
        assert_eq!(format!("{len:x}"), line);
    }
}
