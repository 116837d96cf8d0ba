//! Fuzzes the HTTP/1 head parser (requests and responses). Invariants: no panic; a complete
//! head never claims more octets than given; parsing a prefix of a complete head is never an
//! error the full head did not have (incomplete input is not an error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullhttp_proto::__private::{h1_parse_request, h1_parse_response};

fuzz_target!(|data: &[u8]| {
    for parse in [h1_parse_request, h1_parse_response] {
        if let Ok(Some(n)) = parse(data) {
            assert!(n <= data.len());
            // Every strict prefix of a valid head is incomplete, never an error.
            for cut in [n / 2, n.saturating_sub(1)] {
                if cut > 0 && cut < n {
                    assert!(matches!(parse(&data[..cut]), Ok(None)), "prefix {cut} of a valid head rejected");
                }
            }
        }
    }
});
