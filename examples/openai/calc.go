package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// errExpression is wrapped by every error calculate returns; its text is written for the
// model (and the user) to read, so it names the problem without internal detail.
var errExpression = errors.New("invalid expression")

// maxExpression bounds the input the calculator parses (the model writes it).
const maxExpression = 512

// calculate evaluates an arithmetic expression: numbers (decimal, with optional exponent),
// + - * / % ^ (power, right-associative), unary minus and parentheses.
func calculate(expr string) (float64, error) {
	if len(expr) > maxExpression {
		return 0, fmt.Errorf("%w: longer than %d characters", errExpression, maxExpression)
	}
	p := &calcParser{s: expr}
	v, err := p.sum()
	if err != nil {
		return 0, err
	}
	p.space()
	if p.i < len(p.s) {
		return 0, fmt.Errorf("%w: unexpected %q at position %d", errExpression, p.s[p.i], p.i+1)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%w: the result is not a finite number", errExpression)
	}
	return v, nil
}

type calcParser struct {
	s     string
	i     int
	depth int
}

const maxDepth = 64

func (p *calcParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *calcParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// sum := product (('+'|'-') product)*
func (p *calcParser) sum() (float64, error) {
	v, err := p.product()
	for err == nil {
		op := p.peek()
		if op != '+' && op != '-' {
			break
		}
		p.i++
		var r float64
		if r, err = p.product(); err == nil {
			if op == '+' {
				v += r
			} else {
				v -= r
			}
		}
	}
	return v, err
}

// product := unary (('*'|'/'|'%') unary)*
func (p *calcParser) product() (float64, error) {
	v, err := p.unary()
	for err == nil {
		op := p.peek()
		if op != '*' && op != '/' && op != '%' {
			break
		}
		p.i++
		var r float64
		if r, err = p.unary(); err != nil {
			break
		}
		switch {
		case op == '*':
			v *= r
		case r == 0:
			return 0, fmt.Errorf("%w: division by zero", errExpression)
		case op == '/':
			v /= r
		default:
			v = math.Mod(v, r)
		}
	}
	return v, err
}

// power := primary ('^' unary)?  (so 2^-1 parses and -2^2 is -(2^2))
func (p *calcParser) power() (float64, error) {
	v, err := p.primary()
	if err != nil || p.peek() != '^' {
		return v, err
	}
	p.i++
	if err := p.enter(); err != nil {
		return 0, err
	}
	defer p.leave()
	e, err := p.unary()
	return math.Pow(v, e), err
}

// unary := '-' unary | '+' unary | power
func (p *calcParser) unary() (float64, error) {
	switch p.peek() {
	case '-', '+':
		neg := p.s[p.i] == '-'
		p.i++
		if err := p.enter(); err != nil {
			return 0, err
		}
		defer p.leave()
		v, err := p.unary()
		if neg {
			v = -v
		}
		return v, err
	}
	return p.power()
}

// primary := number | '(' sum ')'
func (p *calcParser) primary() (float64, error) {
	c := p.peek()
	if c == '(' {
		p.i++
		if err := p.enter(); err != nil {
			return 0, err
		}
		defer p.leave()
		v, err := p.sum()
		if err != nil {
			return 0, err
		}
		if p.peek() != ')' {
			return 0, fmt.Errorf("%w: missing ')'", errExpression)
		}
		p.i++
		return v, nil
	}
	start := p.i
	for p.i < len(p.s) && (isDigit(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') && p.i > start {
		j := p.i + 1
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		if j < len(p.s) && isDigit(p.s[j]) {
			for p.i = j; p.i < len(p.s) && isDigit(p.s[p.i]); p.i++ {
			}
		}
	}
	if start == p.i {
		if p.i >= len(p.s) {
			return 0, fmt.Errorf("%w: unexpected end", errExpression)
		}
		return 0, fmt.Errorf("%w: unexpected %q at position %d", errExpression, p.s[p.i], p.i+1)
	}
	v, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad number %q", errExpression, p.s[start:p.i])
	}
	return v, nil
}

func (p *calcParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return fmt.Errorf("%w: nested too deeply", errExpression)
	}
	return nil
}

func (p *calcParser) leave() { p.depth-- }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
