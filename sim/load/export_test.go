package load

// CaptureRequest exports captureRequest to the benchmarks.
var CaptureRequest = captureRequest
