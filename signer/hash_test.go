package signer_test

import "hash"

type hashT = hash.Hash
