package matcher_test

import (
	"errors"
	"fmt"

	"github.com/hooklab/hooklab/matcher"
)

// An ingress with several triggers parses the payload once and matches
// every trigger's filter against the same Document.
func ExampleParseDocument() {
	triggers := map[string]string{
		"opened":  `{"action":["opened"],"pull_request":{"draft":[false]}}`,
		"to-main": `{"pull_request":{"base":{"ref":["main"]}}}`,
		"by-bot":  `{"sender":{"login":[{"$endsWith":"[bot]"}]}}`,
	}
	doc, err := matcher.ParseDocument([]byte(`{"action":"opened","pull_request":{"draft":false,"base":{"ref":"main"}},"sender":{"login":"octocat"}}`))
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"opened", "to-main", "by-bot"} {
		f, err := matcher.ParseEventFilter([]byte(triggers[name]))
		if err != nil {
			panic(err)
		}
		fmt.Println(name, f.MatchDocument(doc))
	}
	// Output:
	// opened true
	// to-main true
	// by-bot false
}

func ExampleParseDocument_invalid() {
	_, err := matcher.ParseDocument([]byte(`{"action":"opened",}`))
	var pe *matcher.ParseError
	fmt.Println(errors.Is(err, matcher.ErrInvalidJSON), errors.As(err, &pe) && pe.Offset == 19)
	fmt.Println(err)
	// Output:
	// true true
	// matcher: invalid character '}' looking for beginning of object key string
}
