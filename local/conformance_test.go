package local_test

import (
	"testing"

	"github.com/driftless-dev/driftless/local"
	"github.com/driftless-dev/driftless/transport"
	"github.com/driftless-dev/driftless/transport/transporttest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	transporttest.Run(t, transporttest.Factory{
		New: func(*testing.T) transport.Conn { return local.New("laptop") },
	})
}
