package chafon

// crcTable is CRC-16/MCRF4XX (reflected poly 0x8408, init 0xFFFF, no final
// xor) one byte at a time: the reader's frame check.
var crcTable = func() (t [256]uint16) {
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

// CRC returns the CRC-16/MCRF4XX of b, as the reader computes it over
// Len..Data. It goes on the wire LSB first.
func CRC(b []byte) uint16 {
	c := uint16(0xFFFF)
	for _, x := range b {
		c = c>>8 ^ crcTable[byte(c)^x]
	}
	return c
}
