// Command bettertls-cases prints, as JSON, the parameters and BetterTLS's own expected
// result of every case of BetterTLS's nameconstraints and pathbuilding suites, by case
// id (the same ids `bettertls export-tests` writes). The export carries only the
// certificates and a verdict that includes a host-name check; certgate matches no host
// names, so crates/certgate-testkit/tests/bettertls.rs needs the parameters (which SAN
// and which constraint each case holds, which edge of which trust graph is invalid) to
// work out the path-validation verdict. It imports BetterTLS as an ordinary Go module
// at the version pinned in go.mod; scripts/export-bettertls.sh runs it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/Netflix/bettertls/test-suites/nameconstraints"
	"github.com/Netflix/bettertls/test-suites/pathbuilding"
	test_case "github.com/Netflix/bettertls/test-suites/test-case"
)

type nameConstraintsCase struct {
	Id       uint                                    `json:"id"`
	Case     nameconstraints.NameConstraintsTestCase `json:"case"`
	Expected test_case.ExpectedResult                `json:"expected"`
}

type pathBuildingCase struct {
	Id            uint                     `json:"id"`
	TrustGraph    string                   `json:"trustGraph"`
	SrcNode       string                   `json:"srcNode"`
	DstNode       string                   `json:"dstNode"`
	InvalidEdges  [][]string               `json:"invalidEdges"`
	InvalidReason string                   `json:"invalidReason"`
	Comment       string                   `json:"comment"`
	Expected      test_case.ExpectedResult `json:"expected"`
}

type output struct {
	Module          string                `json:"module"`
	NameConstraints []nameConstraintsCase `json:"nameconstraints"`
	PathBuilding    []pathBuildingCase    `json:"pathbuilding"`
}

func bettertlsVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/Netflix/bettertls" {
				return dep.Path + "@" + dep.Version
			}
		}
	}
	return "unknown"
}

func run() error {
	out := output{Module: bettertlsVersion()}

	nc := nameconstraints.NewTestCaseProvider()
	count, err := nc.GetTestCaseCount()
	if err != nil {
		return err
	}
	for i := uint(0); i < count; i++ {
		tc, err := nc.GetTestCase(i)
		if err != nil {
			return err
		}
		c, ok := tc.(nameconstraints.NameConstraintsTestCase)
		if !ok {
			return fmt.Errorf("nameconstraints case %d has unexpected type %T", i, tc)
		}
		out.NameConstraints = append(out.NameConstraints, nameConstraintsCase{i, c, c.ExpectedResult()})
	}

	pb := pathbuilding.NewTestCaseProvider()
	count, err = pb.GetTestCaseCount()
	if err != nil {
		return err
	}
	for i := uint(0); i < count; i++ {
		tc, err := pb.GetTestCase(i)
		if err != nil {
			return err
		}
		c, ok := tc.(*pathbuilding.TestCaseImpl)
		if !ok {
			return fmt.Errorf("pathbuilding case %d has unexpected type %T", i, tc)
		}
		edges := [][]string{}
		for _, e := range c.ExplicitTestCase.InvalidEdges {
			edges = append(edges, []string{e.Source, e.Destination})
		}
		out.PathBuilding = append(out.PathBuilding, pathBuildingCase{
			Id:            i,
			TrustGraph:    c.ExplicitTestCase.TrustGraph.Name(),
			SrcNode:       c.ExplicitTestCase.SrcNode,
			DstNode:       c.ExplicitTestCase.DstNode,
			InvalidEdges:  edges,
			InvalidReason: c.InvalidReason.String(),
			Comment:       c.ExplicitTestCase.Comment,
			Expected:      c.ExpectedResult(),
		})
	}

	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(out)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bettertls-cases:", err)
		os.Exit(1)
	}
}
