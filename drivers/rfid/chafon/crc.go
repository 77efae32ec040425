package chafon

import "github.com/tally-inventory/tally/drivers/internal/crc16"

// CRC returns the CRC-16/MCRF4XX of b, as the reader computes it over
// Len..Data. It goes on the wire LSB first.
func CRC(b []byte) uint16 { return crc16.MCRF4XX(b) }
