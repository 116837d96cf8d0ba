# python goaway_server.py PORT -- scripted h2c (prior knowledge) server on the h2 state
# machine: answers the first two requests, then sends GOAWAY(NO_ERROR, last_stream_id = the
# second one) and closes, so later streams were never processed (a client must report them
# as retryable and must not retry silently).
import socket, sys, threading
import h2.config, h2.connection, h2.errors, h2.events, h2.exceptions

def handle(sock):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    served, closed = 0, False
    while not closed and (data := sock.recv(65535)):
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            break
        for ev in events:
            if isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            if isinstance(ev, h2.events.StreamEnded):
                served += 1
                body = b"served\n"
                conn.send_headers(ev.stream_id, [(":status", "200"), ("content-length", str(len(body)))])
                conn.send_data(ev.stream_id, body, end_stream=True)
                if served == 2:
                    conn.close_connection(error_code=h2.errors.ErrorCodes.NO_ERROR, last_stream_id=ev.stream_id)
                    closed = True
                    break
        sock.sendall(conn.data_to_send())
    sock.close()

srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
print("listening", sys.argv[1], flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
