// goserver h2c ADDR | goserver tls ADDR CERT KEY -- echo server for the client interop
// checks: the request body comes back (or the protocol for body-less requests). h2c accepts
// prior knowledge, Upgrade: h2c and HTTP/1.1 (x/net from Debian); tls negotiates h2 by ALPN.
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o goserver ./interop/goserver
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func main() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) == 0 {
			body = []byte(fmt.Sprintf("go proto=%s\n", r.Proto))
		}
		w.Header().Set("content-type", "application/octet-stream")
		w.Write(body)
	})
	fmt.Println("listening", os.Args[2])
	switch os.Args[1] {
	case "h2c":
		panic(http.ListenAndServe(os.Args[2], h2c.NewHandler(h, &http2.Server{})))
	case "tls":
		panic(http.ListenAndServeTLS(os.Args[2], os.Args[3], os.Args[4], h))
	}
}
