#!/bin/sh
# Runs an example on one heap, for the test suite:
#
#   run-on-test-heap.sh PROGRAM [ARG...]
#
# runs PROGRAM ARG... --heap HEAP, where HEAP is the first heap of
# GST_DMA_HEAP_TEST_HEAPS (a comma-separated list; the test runner of the
# project's test guest sets it and runs the test once per heap, that heap
# first), or "default" when the variable is unset. When FAKEHEAP_RUN names
# the fake heap launcher of the test suite, the program runs through it: on
# fake heaps, unless GST_DMA_HEAP_TEST_REAL=1 asks for the machine's.
heap=${GST_DMA_HEAP_TEST_HEAPS%%,*}
exec ${FAKEHEAP_RUN:+"$FAKEHEAP_RUN"} "$@" --heap "${heap:-default}"
