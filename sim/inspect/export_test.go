package inspect

// PrettyJSON is prettyJSON, for the fuzz test.
var PrettyJSON = prettyJSON
