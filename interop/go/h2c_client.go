// Go h2c (prior knowledge) client with golang.org/x/net/http2 from Debian: concurrent
// POST echoes larger than the windows, checked byte for byte, and a GET.
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o goh2c ./interop/go
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"

	"golang.org/x/net/http2"
)

func main() {
	origin := os.Args[1]
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	c := &http.Client{Transport: tr}
	resp, err := c.Get(origin + "/hello")
	if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		fmt.Println("GET failed", err)
		os.Exit(1)
	}
	resp.Body.Close()
	var wg sync.WaitGroup
	failed := false
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := make([]byte, 300000+i*10000)
			rand.Read(body)
			resp, err := c.Post(origin+"/echo", "application/octet-stream", bytes.NewReader(body))
			ok := err == nil
			if ok {
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ok = bytes.Equal(got, body)
			}
			if !ok {
				mu.Lock()
				failed = true
				mu.Unlock()
				fmt.Println("echo failed", i, err)
			}
		}(i)
	}
	wg.Wait()
	if failed {
		os.Exit(1)
	}
	fmt.Println("go h2c ok")
}
