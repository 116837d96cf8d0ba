//! Every (stream state × frame type) pair the peer can produce, checked against RFC 9113
//! §5.1: no panic, and exactly the outcome the RFC demands (ignored/accepted, a stream
//! error, or a connection error, with its code).

use pullhttp_proto::h2::frame::Frame;
use pullhttp_proto::h2::{Config, ErrorCode, Event, StreamId};
use pullhttp_test_support::frames::RawFrame;
use pullhttp_test_support::h2::Peer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Fine,
    Stream(ErrorCode),
    Conn(ErrorCode),
}

use Outcome::{Conn, Fine, Stream};

const P: ErrorCode = ErrorCode::PROTOCOL_ERROR;
const SC: ErrorCode = ErrorCode::STREAM_CLOSED;

#[derive(Clone, Copy, Debug)]
enum State {
    Idle,
    Open,
    HalfClosedRemote,
    HalfClosedLocal,
    Closed,
    ResetByUs,
    ResetByPeer,
    ReservedLocal,
    ReservedRemote,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Data,
    Headers,
    Priority,
    RstStream,
    WindowUpdate,
    Continuation,
    PushPromise,
}

/// Puts stream `id` of a fresh connection into `state`; returns the peer and the id.
fn setup(state: State) -> (Peer, u32) {
    let ok = http::Response::new(()).into_parts().0;
    let key_of = |events: Vec<Event>| {
        events
            .into_iter()
            .find_map(|e| match e {
                Event::Request { key, .. } => Some(key),
                _ => None,
            })
            .expect("request")
    };
    match state {
        State::Idle => (Peer::server(), 1),
        State::Open => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", false);
            peer.events();
            (peer, 1)
        }
        State::HalfClosedRemote => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", true);
            peer.events();
            (peer, 1)
        }
        State::HalfClosedLocal => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", false);
            let key = key_of(peer.events());
            peer.conn.send_response(key, &ok, true).unwrap();
            peer.frames();
            peer.events();
            (peer, 1)
        }
        State::Closed => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", true);
            let key = key_of(peer.events());
            peer.conn.send_response(key, &ok, true).unwrap();
            peer.frames();
            peer.events();
            assert_eq!(peer.conn.stream_count(), 0);
            (peer, 1)
        }
        State::ResetByUs => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", false);
            let key = key_of(peer.events());
            peer.conn
                .reset_stream(key, ErrorCode::CANCEL, peer.now)
                .unwrap();
            peer.frames();
            peer.events();
            (peer, 1)
        }
        State::ResetByPeer => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", false);
            peer.events();
            peer.send(RawFrame::rst_stream(1, 8));
            peer.events();
            (peer, 1)
        }
        State::ReservedLocal => {
            let mut peer = Peer::server();
            peer.send_get(1, "/", false);
            let key = key_of(peer.events());
            let promised = http::Request::get("https://example.com/p")
                .body(())
                .unwrap()
                .into_parts()
                .0;
            peer.conn.push_promise(key, &promised).unwrap();
            peer.frames();
            (peer, 2)
        }
        State::ReservedRemote => {
            let mut config = Config::client();
            config.enable_push = true;
            let mut peer = Peer::client_with_settings(config, &[]);
            let head = http::Request::get("https://example.com/")
                .body(())
                .unwrap()
                .into_parts()
                .0;
            peer.conn.send_request(&head, false).unwrap();
            peer.frames();
            let block = peer.block(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":authority", "example.com"),
                (":path", "/p"),
            ]);
            peer.send(RawFrame::push_promise(1, 2, &block).end_headers());
            peer.events();
            (peer, 2)
        }
    }
}

fn frame(peer: &mut Peer, kind: Kind, id: u32, state: State) -> RawFrame {
    match kind {
        Kind::Data => RawFrame::data(id, b"x"),
        Kind::Headers => {
            let fields: &[(&str, &str)] = match state {
                // What a peer would legitimately send in these states: a request head for an
                // idle stream, a response head for a reserved (remote) one, else trailers.
                State::Idle => &[(":method", "GET"), (":scheme", "https"), (":path", "/")],
                State::ReservedRemote => &[(":status", "200")],
                _ => &[("x-trailer", "1")],
            };
            let block = peer.block(fields);
            RawFrame::headers(id, &block).end_headers().end_stream()
        }
        Kind::Priority => RawFrame::priority(id, 0, 16),
        Kind::RstStream => RawFrame::rst_stream(id, 8),
        Kind::WindowUpdate => RawFrame::window_update(id, 100),
        Kind::Continuation => RawFrame::continuation(id, b"").end_headers(),
        Kind::PushPromise => {
            let block = peer.block(&[(":method", "GET"), (":scheme", "https"), (":path", "/x")]);
            RawFrame::push_promise(id, 4, &block).end_headers()
        }
    }
}

fn outcome(frames: &[Frame], id: u32) -> Outcome {
    for f in frames {
        match f {
            Frame::GoAway(g) => return Conn(g.code),
            Frame::RstStream(r) if r.stream_id == StreamId::new(id) => return Stream(r.code),
            _ => {}
        }
    }
    Fine
}

/// The RFC's answer for each pair (server side, except ReservedRemote which is a client).
fn expected(state: State, kind: Kind) -> Outcome {
    use Kind as K;
    use State as S;
    match (state, kind) {
        // CONTINUATION outside a block, and PUSH_PROMISE toward a server or on a pushed
        // stream, are connection errors in every state (§6.10, §8.4).
        (_, K::Continuation) => Conn(P),
        (S::ReservedRemote, K::PushPromise) => Conn(P),
        (_, K::PushPromise) => Conn(P),
        // PRIORITY is allowed in every state (§5.1).
        (_, K::Priority) => Fine,
        // idle: only HEADERS and PRIORITY (§5.1).
        (S::Idle, K::Headers) => Fine,
        (S::Idle, _) => Conn(P),
        // open / half-closed (local): anything.
        (S::Open | S::HalfClosedLocal, _) => Fine,
        // half-closed (remote): STREAM_CLOSED stream error for DATA and HEADERS.
        (S::HalfClosedRemote, K::Data | K::Headers) => Stream(SC),
        (S::HalfClosedRemote, _) => Fine,
        // closed: DATA/HEADERS are STREAM_CLOSED connection errors; after our own reset
        // they are tolerated (minimal processing); RST_STREAM and WINDOW_UPDATE ignored.
        (S::Closed | S::ResetByPeer, K::Data | K::Headers) => Conn(SC),
        (S::Closed | S::ResetByPeer | S::ResetByUs, _) => Fine,
        // reserved (local): only RST_STREAM, PRIORITY, WINDOW_UPDATE may be received.
        (S::ReservedLocal, K::RstStream | K::WindowUpdate) => Fine,
        (S::ReservedLocal, _) => Conn(P),
        // reserved (remote): only HEADERS, RST_STREAM, PRIORITY may be received.
        (S::ReservedRemote, K::Headers | K::RstStream) => Fine,
        (S::ReservedRemote, _) => Conn(P),
    }
}

#[test]
fn every_state_and_frame_pair_has_the_rfc9113_s5_1_outcome() {
    let states = [
        State::Idle,
        State::Open,
        State::HalfClosedRemote,
        State::HalfClosedLocal,
        State::Closed,
        State::ResetByUs,
        State::ResetByPeer,
        State::ReservedLocal,
        State::ReservedRemote,
    ];
    let kinds = [
        Kind::Data,
        Kind::Headers,
        Kind::Priority,
        Kind::RstStream,
        Kind::WindowUpdate,
        Kind::Continuation,
        Kind::PushPromise,
    ];
    let mut failures = Vec::new();
    for state in states {
        for kind in kinds {
            let (mut peer, id) = setup(state);
            let f = frame(&mut peer, kind, id, state);
            peer.send(f);
            let got = outcome(&peer.frames(), id);
            peer.events();
            let want = expected(state, kind);
            if got != want {
                failures.push(format!("{state:?} × {kind:?}: got {got:?}, want {want:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} pairs wrong:\n{}",
        failures.len(),
        states.len() * kinds.len(),
        failures.join("\n")
    );
}
