package tagdata

// crcTable1021 is the MSB-first table for polynomial 0x1021, shared by
// CRC-16/CCITT-FALSE (ISO 28560-3 tag CRC) and CRC-16/GENIBUS (the EPC
// bank's StoredCRC). A table keeps decode at a few ns per byte.
var crcTable1021 = func() (t [256]uint16) {
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

// crc1021 continues an MSB-first 0x1021 CRC over p.
func crc1021(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc = crc<<8 ^ crcTable1021[byte(crc>>8)^b]
	}
	return crc
}

// CRC16CCITTFalse is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no
// reflection, no xorout; check 0x29B1), the CRC of the ISO 28560-3 basic
// block.
func CRC16CCITTFalse(p []byte) uint16 { return crc1021(0xFFFF, p) }

// CRC16Genibus is CRC-16/GENIBUS (CCITT-FALSE with xorout 0xFFFF; check
// 0xD64E), the StoredCRC a Gen2 tag keeps in word 0 of its EPC bank over the
// PC word and the EPC.
func CRC16Genibus(p []byte) uint16 { return ^crc1021(0xFFFF, p) }
