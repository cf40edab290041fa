//go:build !linux

package main

import "net"

// closedPort returns a loopback address that refuses connections: a port
// from 127.0.0.1:0, closed again (elsewhere than Linux another listener
// may take it before it is used).
func closedPort() (addr string, release func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr = l.Addr().String()
	return addr, func() {}, l.Close()
}
