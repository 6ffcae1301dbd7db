package main

import (
	"errors"
	"strings"
	"testing"
)

func TestCalculate(t *testing.T) {
	tests := []struct {
		expr string
		want float64
	}{
		{"6*7", 42},
		{" 1 + 2 * 3 ", 7},
		{"(1+2)*3", 9},
		{"2^3^2", 512}, // right-associative
		{"-2^2", -4},
		{"10/4", 2.5},
		{"10 % 4", 2},
		{"--3", 3},
		{"1.5e3 + 0.5", 1500.5},
		{"((((1))))", 1},
	}
	for _, tt := range tests {
		got, err := calculate(tt.expr)
		if err != nil || got != tt.want {
			t.Errorf("calculate(%q) = %v, %v; want %v", tt.expr, got, err, tt.want)
		}
	}
}

func TestCalculateRejects(t *testing.T) {
	tests := []struct{ expr, msg string }{
		{"", "unexpected end"},
		{"1+", "unexpected end"},
		{"1/0", "division by zero"},
		{"5 % 0", "division by zero"},
		{"(1+2", "missing ')'"},
		{"2 3", "unexpected '3'"},
		{"abc", "unexpected 'a'"},
		{"1..2", "bad number"},
		{"10^400", "not a finite number"},
		{strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), "nested too deeply"},
		{strings.Repeat("-", 100) + "1", "nested too deeply"},
		{strings.Repeat("1+", 300) + "1", "longer than"},
	}
	for _, tt := range tests {
		_, err := calculate(tt.expr)
		if !errors.Is(err, errExpression) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("calculate(%q) error %v, want one containing %q", tt.expr, err, tt.msg)
		}
	}
}

func FuzzCalculate(f *testing.F) {
	for _, s := range []string{"6*7", "(1+2)^-3", "1e5%7", "-(-(-1))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = calculate(s) // never panics, never recurses without bound
	})
}
