//! Fuzzes the chunked body decoder. Input: byte 0 sets the piece size; the rest is the body.
//! Invariants: no panic; the body decoded never exceeds the input; decoding in pieces gives
//! the same result as decoding at once (any split of the input gives the same body).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullhttp_proto::__private::h1_decode_chunked;

fuzz_target!(|data: &[u8]| {
    let [piece, body @ ..] = data else {
        return;
    };
    let whole = h1_decode_chunked(body, body.len().max(1));
    let split = h1_decode_chunked(body, usize::from(*piece) + 1);
    if let Ok((decoded, _)) = &whole {
        assert!(decoded.len() <= body.len());
    }
    match (&whole, &split) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "split changed the body"),
        (Err(_), Err(_)) => {}
        // An error may only show up earlier or later if the input ends mid-message.
        (Ok((_, done)), Err(_)) | (Err(_), Ok((_, done))) => assert!(!done, "split changed validity"),
    }
});
