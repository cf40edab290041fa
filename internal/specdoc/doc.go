// Package specdoc reads the documents hooklab is configured with, which
// may come from anyone who can reach the control API: endpoint spec files
// and control API bodies (package sim) and conformance manifests (package
// conformance). A document is JSON or YAML; Decode turns it into JSON,
// bounded in time and memory whatever the input:
//
//   - at most MaxBytes bytes;
//   - objects and lists nested at most MaxDepth deep;
//   - YAML aliases (*name) adding at most MaxAliasBytes bytes of JSON in
//     all, counted as they are expanded, so that neither "billion laughs"
//     nor one long anchored value used thousands of times is expanded past
//     the budget;
//   - no key given twice in one object, in JSON as in YAML (encoding/json
//     would keep the last silently).
//
// Every error is an *Error naming the line and the JSON path of the
// problem. Doc.Line finds the line of any path in the source, for the
// errors callers find later in the JSON.
//
// Typical use:
//
//	doc, err := specdoc.Decode(data, specdoc.IsYAML(name, data))
//	if err != nil { … }           // *specdoc.Error: line, path, reason
//	json.Unmarshal(doc.JSON, &v)  // no duplicates, bounded
//	line := doc.Line("endpoints[0].verify")
//
// The YAML rules are YAML 1.2 as go.yaml.in/yaml/v3 reads it
// (https://yaml.org/spec/1.2.2/#71-alias-nodes for aliases); JSON is RFC
// 8259, whose §4 leaves duplicate names' meaning open: here they are an
// error.
package specdoc
