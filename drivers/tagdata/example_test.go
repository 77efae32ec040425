package tagdata_test

import (
	"fmt"
	"os"

	"github.com/tally-inventory/tally/drivers/tagdata"
)

// `tally decode` in a nutshell: hex in, model detected, fields out.
func ExampleDecodeHex() {
	tag, err := tagdata.DecodeHex("auto", "11 01 01 31 31 32 32 33 33 34 34 00 00 00 00 00 00 00 00 51 3E 44 45 37 30 35 00 00 00 00 00 00")
	if err != nil {
		fmt.Println(err)
		return
	}
	tag.Format(os.Stdout)
	// Output:
	// model  iso28560-3  (ISO 28560-3, Danish data model)
	// id     "11223344"
	//   byte   0  version                  1
	//   byte   0  type of usage            1 (circulating)
	//   byte   1  parts in item            1
	//   byte   2  part number              1
	//   byte   3  primary item identifier  11223344
	//   byte  19  crc                      0x3E51 (ok)
	//   byte  21  owner library            DE705
	//   byte  21  country                  DE
	//   byte  23  library                  705
}

// A UHF driver hands over the PC word, the EPC and (if read) user memory;
// the toggle bit picks GS1 or ISO.
func ExampleDecodeUHF() {
	epc, _ := tagdata.EncodeGIAI96(tagdata.GIAI{CompanyPrefix: "0614141", AssetReference: 4711})
	tag, err := tagdata.DecodeUHF(tagdata.PCFor(epc, false, -1), epc, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tag.Model, tag.ID, tag.URI)
	// Output: giai-96 4711 urn:epc:tag:giai-96:0.0614141.4711
}

// What the simulator does to script a cart: encode tags, then let the
// decoder read them back.
func Example_simulator() {
	blocks, _ := tagdata.Encode28560_3(tagdata.Tag3{TypeOfUsage: 1, ID: "31234000123456", Owner: "US-MaBoS"})
	fmt.Printf("% X\n", blocks[:8])
	tag, _ := tagdata.Detect(tagdata.ReverseBlocks(blocks)) // as some readers return them
	fmt.Println(tag.ID, tag.ISIL, tag.Reversed)
	// Output:
	// 11 01 01 33 31 32 33 34
	// 31234000123456 US-MaBoS true
}

func ExampleDetect_error() {
	_, err := tagdata.Detect([]byte{0x04, 0x11, 0x00, 0x00, '1', '2'})
	fmt.Println(err)
	// Output:
	// no tag data model fits these bytes (use --format to force one):
	//   iso28560-3: byte 6: truncated: the basic block is 32 bytes and only 6 were read; read at least 8 blocks of 4 bytes
	//   sgtin-96: not a bare 12-byte EPC (6 bytes)
	//   giai-96: not a bare 12-byte EPC (6 bytes)
	//   iso28560-4: byte 0: PC word 0x0411 says 0 words of EPC, but 4 bytes follow: not an EPC bank; give the PC word and the EPC, optionally preceded by the StoredCRC word
	//   3m-rfid501: byte 6: truncated: a 3M tag needs 24 bytes (6 blocks), got 6; read more blocks
	//   iso28560-2: byte 6: truncated: set information (element at byte 0) needs 17 data bytes, 4 left; read more blocks
}
