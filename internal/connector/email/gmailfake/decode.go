package gmailfake

import (
	"io"
	"mime/quotedprintable"
)

// newlineStripper drops CR and LF so base64 bodies wrapped at 76 columns decode.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func qpReader(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }
