package main

import (
	"fmt"
	"syscall"
)

// closedPort returns a loopback address that refuses connections and that
// no other listener can take until release is called: a TCP socket bound
// to a port but never listening (connecting to it gets a reset), unlike a
// port from 127.0.0.1:0 closed again, which the kernel may hand to the
// next test's server.
func closedPort() (addr string, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return "", nil, err
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port), func() { syscall.Close(fd) }, nil
}
