//go:build !linux

package main

func waitInEpoll() { select {} }
