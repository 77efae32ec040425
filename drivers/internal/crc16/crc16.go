// Package crc16 holds the two 16-bit CRC tables the drivers and the
// simulators need, once: the reflected table for polynomial 0x1021 (the
// MCRF4XX frame check of Chafon and FEIG readers) and the MSB-first table
// for the same polynomial (the ThingMagic message CRC, the ISO 28560-3
// basic block CRC and the Gen2 EPC bank StoredCRC).
//
// The algorithms are named and checked as in Greg Cook's "Catalogue of
// parametrised CRC algorithms" (CRC RevEng,
// https://reveng.sourceforge.io/crc-catalogue/16.htm); the catalogue lines
// are kept in testdata/catalogue.txt and the tests hold every function to
// its "check" value, the CRC of the ASCII string "123456789".
package crc16

// reflected is the LSB-first table for polynomial 0x1021 (0x8408
// reflected): entry i is what byte i feeds back after eight shifts.
var reflected = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// msbFirst is the MSB-first table for polynomial 0x1021: entry i is what
// the top byte i feeds back after eight shifts.
var msbFirst = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// MCRF4XX is CRC-16/MCRF4XX (poly 0x1021 reflected, init 0xFFFF, no final
// xor; check 0x6F91): the frame check of Chafon UHFReader18/288 and FEIG
// ISO-host readers, sent LSB first.
func MCRF4XX(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		c = c>>8 ^ reflected[byte(c)^b]
	}
	return c
}

// Update continues an MSB-first polynomial 0x1021 CRC register over p, for
// callers that feed a CRC in pieces.
func Update(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc = crc<<8 ^ msbFirst[byte(crc>>8)^b]
	}
	return crc
}

// CCITTFalse is CRC-16/IBM-3740, better known as CRC-16/CCITT-FALSE (poly
// 0x1021, init 0xFFFF, no reflection, no final xor; check 0x29B1): the CRC
// of the ISO 28560-3 basic block.
func CCITTFalse(p []byte) uint16 { return Update(0xFFFF, p) }

// Genibus is CRC-16/GENIBUS, alias CRC-16/EPC-C1G2 (CCITT-FALSE with final
// xor 0xFFFF; check 0xD64E): the StoredCRC a Gen2 tag keeps in word 0 of
// its EPC bank over the PC word and the EPC.
func Genibus(p []byte) uint16 { return ^Update(0xFFFF, p) }

// Augmented is the register of polynomial 0x1021 fed MSB first in
// augmented form (each byte shifted in at the low end), started at 0xFFFF
// and read without flushing it with zero bytes: the ThingMagic Mercury
// message CRC, which the vendor computes a nibble at a time. It is no
// catalogue CRC by itself, but flushed with two zero bytes it is
// CRC-16/SPI-FUJITSU (alias CRC-16/AUG-CCITT; check 0xE5CC), which the
// tests hold it to.
func Augmented(p []byte) uint16 {
	c := uint16(0xFFFF)
	for _, b := range p {
		c = (c<<8 | uint16(b)) ^ msbFirst[c>>8]
	}
	return c
}
