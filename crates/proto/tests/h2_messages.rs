//! HTTP semantics over HTTP/2 (RFC 9113 §8): each malformed message is a stream error of
//! type PROTOCOL_ERROR that resets only its stream; valid ones become `http` heads.

use bytes::Bytes;
use pullhttp_proto::h2::frame::Frame;
use pullhttp_proto::h2::{Config, ErrorCode, Event, PeerError, Protocol, StreamId};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

const GET: [(&str, &str); 4] = [
    (":method", "GET"),
    (":scheme", "https"),
    (":authority", "example.com"),
    (":path", "/"),
];

/// Sends `fields` as a request on stream 1 and returns the RST_STREAM code, asserting no
/// GOAWAY and no Request event.
fn rejected(fields: &[(&str, &str)]) -> ErrorCode {
    let mut peer = Peer::server();
    peer.send_headers(1, fields, true);
    let frames = peer.frames();
    assert!(
        !frames.iter().any(|f| matches!(f, Frame::GoAway(_))),
        "{fields:?}: connection error"
    );
    let events = peer.events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Request { .. })),
        "{fields:?} accepted"
    );
    frames
        .iter()
        .find_map(|f| match f {
            Frame::RstStream(r) if r.stream_id == StreamId::new(1) => Some(r.code),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{fields:?}: no RST_STREAM"))
}

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v = GET.to_vec();
    v.extend_from_slice(extra);
    v
}

#[test]
fn malformed_requests_are_stream_protocol_errors_s8_1_1() {
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("§8.2 uppercase name", with(&[("X-Upper", "1")])),
        ("§8.2.1 value with LF", with(&[("x-a", "a\nb")])),
        ("§8.2.1 value with CR", with(&[("x-a", "a\rb")])),
        ("§8.2.1 value with NUL", with(&[("x-a", "a\0b")])),
        ("§8.2.1 leading space", with(&[("x-a", " a")])),
        ("§8.2.1 trailing tab", with(&[("x-a", "a\t")])),
        ("§8.2.1 name with space", with(&[("x a", "1")])),
        ("§8.2.2 connection", with(&[("connection", "keep-alive")])),
        ("§8.2.2 keep-alive", with(&[("keep-alive", "5")])),
        (
            "§8.2.2 proxy-connection",
            with(&[("proxy-connection", "x")]),
        ),
        (
            "§8.2.2 transfer-encoding",
            with(&[("transfer-encoding", "chunked")]),
        ),
        ("§8.2.2 upgrade", with(&[("upgrade", "h2c")])),
        ("§8.2.2 te other than trailers", with(&[("te", "gzip")])),
        (
            "§8.3 pseudo after regular",
            vec![
                (":method", "GET"),
                ("x-a", "1"),
                (":scheme", "https"),
                (":path", "/"),
            ],
        ),
        ("§8.3 duplicate :path", with(&[(":path", "/again")])),
        ("§8.3 unknown pseudo", with(&[(":foo", "bar")])),
        ("§8.3 :status in request", with(&[(":status", "200")])),
        (
            "§8.3.1 missing :method",
            vec![(":scheme", "https"), (":path", "/")],
        ),
        (
            "§8.3.1 missing :scheme",
            vec![(":method", "GET"), (":path", "/")],
        ),
        (
            "§8.3.1 missing :path",
            vec![(":method", "GET"), (":scheme", "https")],
        ),
        (
            "§8.3.1 empty :path",
            vec![(":method", "GET"), (":scheme", "https"), (":path", "")],
        ),
        (
            "§8.3.1 relative :path",
            vec![(":method", "GET"), (":scheme", "https"), (":path", "a/b")],
        ),
        (
            "§8.3.1 host differs from :authority",
            with(&[("host", "other.example")]),
        ),
        (
            "§8.5 CONNECT with :path",
            vec![
                (":method", "CONNECT"),
                (":authority", "a:443"),
                (":path", "/"),
            ],
        ),
        (
            "§8.5 CONNECT without :authority",
            vec![(":method", "CONNECT")],
        ),
        (
            "RFC 8441 :protocol not enabled",
            vec![
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "https"),
                (":authority", "a"),
                (":path", "/"),
            ],
        ),
        (
            "§8.1.1 content-length not digits",
            with(&[("content-length", "12a")]),
        ),
        (
            "§8.1.1 content-length values differ",
            with(&[("content-length", "1"), ("content-length", "2")]),
        ),
        (
            "§8.1.1 content-length 5 with END_STREAM",
            with(&[("content-length", "5")]),
        ),
    ];
    for (rule, fields) in cases {
        assert_eq!(rejected(&fields), ErrorCode::PROTOCOL_ERROR, "{rule}");
    }
}

#[test]
fn valid_request_becomes_http_head_with_uri_and_sensitive_values_s8_3() {
    let mut peer = Peer::server();
    peer.send_headers(
        1,
        &with(&[
            ("te", "trailers"),
            ("accept", "*/*"),
            ("x-many", "1"),
            ("x-many", "2"),
        ]),
        true,
    );
    let events = peer.events();
    let Event::Request {
        head, end_stream, ..
    } = &events[0]
    else {
        panic!("{events:?}")
    };
    assert!(*end_stream);
    assert_eq!(head.method, http::Method::GET);
    assert_eq!(head.uri, "https://example.com/");
    assert_eq!(head.version, http::Version::HTTP_2);
    assert_eq!(head.headers.get_all("x-many").iter().count(), 2);
    assert_eq!(head.headers["te"], "trailers");
}

#[test]
fn connect_request_has_authority_form_target_s8_5() {
    let mut peer = Peer::server();
    peer.send_headers(
        1,
        &[(":method", "CONNECT"), (":authority", "proxy.example:443")],
        false,
    );
    let events = peer.events();
    let Event::Request { head, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(head.method, http::Method::CONNECT);
    assert_eq!(head.uri.authority().unwrap().as_str(), "proxy.example:443");
}

#[test]
fn extended_connect_accepted_when_enabled_rfc8441_s4() {
    let mut config = Config::server();
    config.enable_connect_protocol = true;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    peer.send_headers(
        1,
        &[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":authority", "a.example"),
            (":path", "/chat"),
        ],
        false,
    );
    let events = peer.events();
    let Event::Request { head, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        head.extensions.get::<Protocol>(),
        Some(&Protocol::from_static("websocket"))
    );
    assert_eq!(head.uri.path(), "/chat");
}

#[test]
fn content_length_mismatch_with_data_total_resets_stream_s8_1_1() {
    let mut peer = Peer::server();
    peer.send_headers(1, &with(&[("content-length", "3")]), false);
    peer.send(RawFrame::data(1, b"abcd").end_stream());
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::RstStream(r) if r.code == ErrorCode::PROTOCOL_ERROR))
    );
    let mut peer = Peer::server();
    peer.send_headers(1, &with(&[("content-length", "3")]), false);
    peer.send(RawFrame::data(1, b"ab").end_stream());
    let frames = peer.frames();
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::RstStream(r) if r.code == ErrorCode::PROTOCOL_ERROR))
    );
    let mut peer = Peer::server();
    peer.send_headers(1, &with(&[("content-length", "3")]), false);
    peer.send(RawFrame::data(1, b"abc").end_stream());
    assert!(
        !peer
            .frames()
            .iter()
            .any(|f| matches!(f, Frame::RstStream(_)))
    );
}

#[test]
fn trailers_without_end_stream_or_with_pseudo_are_malformed_s8_1() {
    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    peer.events();
    peer.send_headers(1, &[("x-trailer", "1")], false);
    let events = peer.events();
    assert!(
        matches!(&events[0], Event::Reset { reset, .. } if reset.cause == Some(PeerError::Malformed(pullhttp_proto::h2::MessageError::InvalidSequence)))
    );

    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    peer.events();
    peer.send_headers(1, &[(":path", "/x")], true);
    assert!(matches!(peer.events()[0], Event::Reset { .. }));

    let mut peer = Peer::server();
    peer.send_get(1, "/", false);
    peer.events();
    peer.send(RawFrame::data(1, b"body"));
    peer.send_headers(1, &[("x-checksum", "abc")], true);
    let events = peer.events();
    assert!(
        matches!(&events[1], Event::Trailers { trailers, .. } if trailers["x-checksum"] == "abc")
    );
}

#[test]
fn oversized_request_headers_get_431_without_desynchronising_hpack() {
    let mut config = Config::server();
    config.max_header_list_size = 1024;
    let mut peer = Peer::server_with(config);
    peer.send(RawFrame::settings_ack());
    let big = "v".repeat(2000);
    let mut fields = GET.to_vec();
    fields.push(("x-big", big.as_str()));
    peer.send_headers(1, &fields, true);
    let frames = peer.frames();
    let Frame::Headers(h) = &frames[0] else {
        panic!("{frames:?}")
    };
    let head = peer.decode(h);
    assert_eq!(head, [(":status".to_string(), "431".to_string())]);
    assert!(peer.events().is_empty(), "the application never sees it");
    // The next request decodes fine, reusing entries the big one inserted.
    peer.send_get(3, "/next", true);
    assert!(matches!(peer.events()[0], Event::Request { .. }));
}

#[test]
fn client_response_with_informational_then_final_s8_1() {
    let mut peer = Peer::client_with_settings(Config::client(), &[]);
    let head = http::Request::post("https://example.com/up")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let key = peer.conn.send_request(&head, false).unwrap();
    peer.conn
        .send_data(key, Bytes::from_static(b"x"), true)
        .unwrap();
    peer.frames();
    peer.events();
    peer.send_headers(1, &[(":status", "100")], false);
    peer.send_headers(1, &[(":status", "103"), ("link", "</a.css>")], false);
    peer.send_headers(1, &[(":status", "200"), ("content-length", "2")], false);
    peer.send(RawFrame::data(1, b"ok").end_stream());
    let events = peer.events();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Informational { .. } => "1xx",
            Event::Response { .. } => "response",
            Event::Data { .. } => "data",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["1xx", "1xx", "response", "data"]);
}

#[test]
fn client_response_101_or_bad_status_is_malformed_s8_6() {
    for status in ["101", "20", "2000", "abc"] {
        let mut peer = Peer::client_with_settings(Config::client(), &[]);
        let head = http::Request::get("https://example.com/")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        peer.conn.send_request(&head, true).unwrap();
        peer.frames();
        peer.send_headers(1, &[(":status", status)], true);
        let frames = peer.frames();
        assert!(
            frames
                .iter()
                .any(|f| matches!(f, Frame::RstStream(r) if r.code == ErrorCode::PROTOCOL_ERROR)),
            "{status}"
        );
    }
}

#[test]
fn client_request_pseudo_headers_follow_configured_order_and_drop_connection_fields() {
    use pullhttp_proto::h2::PseudoHeader as P;
    let mut config = Config::client();
    config.pseudo_order = [P::Method, P::Authority, P::Scheme, P::Path, P::Protocol];
    let mut peer = Peer::client_with_settings(config, &[]);
    let head = http::Request::get("https://example.com/a?b=c")
        .header("connection", "close")
        .header("x-kept", "1")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    peer.conn.send_request(&head, true).unwrap();
    let frames = peer.frames();
    let Frame::Headers(h) = frames
        .iter()
        .find(|f| matches!(f, Frame::Headers(_)))
        .unwrap()
    else {
        unreachable!()
    };
    let fields = peer.decode(h);
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [":method", ":authority", ":scheme", ":path", "x-kept"]
    );
    assert_eq!(fields[3].1, "/a?b=c");
}

#[test]
fn client_extended_connect_requires_peer_setting_rfc8441_s3() {
    let mut peer = Peer::client_with_settings(Config::client(), &[]);
    let mut head = http::Request::connect("https://example.com/chat")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    head.extensions.insert(Protocol::from_static("websocket"));
    assert_eq!(
        peer.conn.send_request(&head, false),
        Err(pullhttp_proto::h2::Misuse::ConnectProtocolDisabled)
    );
    let mut peer = Peer::client_with_settings(Config::client(), &[(0x8, 1)]);
    peer.conn.send_request(&head, false).unwrap();
    let frames = peer.frames();
    let Frame::Headers(h) = frames
        .iter()
        .find(|f| matches!(f, Frame::Headers(_)))
        .unwrap()
    else {
        unreachable!()
    };
    let fields = peer.decode(h);
    assert!(fields.contains(&(":protocol".into(), "websocket".into())));
}

#[test]
fn oversized_response_headers_are_refused_without_desynchronising_hpack() {
    let mut config = Config::client();
    config.max_header_list_size = 1024;
    let mut peer = Peer::client_with_settings(config, &[]);
    let head = http::Request::get("https://example.com/")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    let k1 = peer.conn.send_request(&head, true).unwrap();
    let k3 = peer.conn.send_request(&head, true).unwrap();
    peer.frames();
    peer.events();
    let big = "v".repeat(2000);
    peer.send_headers(1, &[(":status", "200"), ("x-big", big.as_str())], true);
    let frames = peer.frames();
    assert!(frames.iter().any(|f| matches!(f, Frame::RstStream(r)
        if r.stream_id == StreamId::new(1) && r.code == ErrorCode::REFUSED_STREAM)));
    assert!(!frames.iter().any(|f| matches!(f, Frame::GoAway(_))));
    let events = peer.events();
    assert!(matches!(&events[..], [Event::RecvReset { key, .. }] if *key == k1));
    // The next response reuses the entry the refused one inserted, and decodes.
    peer.send_headers(3, &[(":status", "200"), ("x-big", "short")], true);
    let events = peer.events();
    assert!(
        matches!(&events[..], [Event::Response { key, head, .. }] if *key == k3 && head.headers["x-big"] == "short")
    );
}
