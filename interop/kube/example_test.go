package kube_test

import (
	"fmt"

	"github.com/hooklab/hooklab/interop/kube"
)

// The load Job's report path, as the kubelet expands it for pod 2 before
// the shell runs: $(NAME) from the container's environment, $$ as $, and
// ${JOB_COMPLETION_INDEX} left to the shell.
func ExampleExpand() {
	env := map[string]string{"REPORT_DIR": "/reports", "RUN_ID": "run-42", "JOB_COMPLETION_INDEX": "2"}
	fmt.Println(kube.Expand(`> "$(REPORT_DIR)/$(RUN_ID)/${JOB_COMPLETION_INDEX}.json"`, kube.Lookup(env)))
	fmt.Println(kube.Expand(`$(JOB_COMPLETION_INDEX) $$(JOB_COMPLETION_INDEX) $(UNSET)`, kube.Lookup(env)))
	// Output:
	// > "/reports/run-42/${JOB_COMPLETION_INDEX}.json"
	// 2 $(JOB_COMPLETION_INDEX) $(UNSET)
}
