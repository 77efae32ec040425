package tagdata

import "github.com/tally-inventory/tally/drivers/internal/crc16"

// crc1021 continues an MSB-first 0x1021 CRC over p.
func crc1021(crc uint16, p []byte) uint16 { return crc16.Update(crc, p) }

// CRC16CCITTFalse is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no
// reflection, no xorout; check 0x29B1), the CRC of the ISO 28560-3 basic
// block.
func CRC16CCITTFalse(p []byte) uint16 { return crc16.CCITTFalse(p) }

// CRC16Genibus is CRC-16/GENIBUS (CCITT-FALSE with xorout 0xFFFF; check
// 0xD64E), the StoredCRC a Gen2 tag keeps in word 0 of its EPC bank over the
// PC word and the EPC.
func CRC16Genibus(p []byte) uint16 { return crc16.Genibus(p) }
