package generator

import (
	"sync/atomic"

	"github.com/portable-generator/portable-generator/dissect"
)

// openedAhead keeps the image files the prefetch hints opened
// (dissect.PrefetchFile) until the worker of the image takes them, so that
// the worker reads the file the hint opened, and the head the hint read,
// instead of looking it up, opening it and reading its head again. A hint
// that comes after its worker started closes its file, and so does the end
// of the run for the files no worker took.
type openedAhead struct {
	slots []atomic.Pointer[dissect.File]
}

// taken marks a slot whose worker has been by: a file put there later is
// closed at once.
var taken = new(dissect.File)

func newOpenedAhead(n int) *openedAhead {
	return &openedAhead{slots: make([]atomic.Pointer[dissect.File], n)}
}

// put hands image i's file to its worker, or closes it if the worker
// already went on without it.
func (o *openedAhead) put(i int, f *dissect.File) {
	if !o.slots[i].CompareAndSwap(nil, f) {
		f.Close()
	}
}

// take returns image i's file, nil if its hint has not opened it (yet);
// the caller owns it.
func (o *openedAhead) take(i int) *dissect.File {
	if f := o.slots[i].Swap(taken); f != taken {
		return f
	}
	return nil
}

// closeAll closes the files no worker took: the run ended first.
func (o *openedAhead) closeAll() {
	for i := range o.slots {
		if f := o.take(i); f != nil {
			f.Close()
		}
	}
}
