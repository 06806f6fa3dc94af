// Package pdfcheck is a strict structural check of a PDF written with a
// classic cross-reference table, which is what the Oneflow sandbox serves
// (fpdf's renders and the hand-laid large PDFs). Tests use it to prove that
// what the sandbox hands out is a PDF a reader can open without repairing it:
// every cross-reference entry points at its object, every stream is exactly
// as long as its dictionary says, and the trailer leads through the catalog
// to a page tree whose count matches its pages.
//
// Readers such as PDFium silently rebuild a broken cross-reference table, so
// "a viewer opens it" would not catch the offset and length mistakes a
// hand-written PDF can make; this check refuses them.
package pdfcheck

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Info is what a valid PDF holds.
type Info struct {
	Version string // "1.4"
	Objects int    // objects in use
	Pages   int    // leaf pages in the page tree
}

var (
	headerRE   = regexp.MustCompile(`^%PDF-(1\.[0-7])\r?\n`)
	objStartRE = regexp.MustCompile(`^(\d+) (\d+) obj\s`)
	subsecRE   = regexp.MustCompile(`^(\d+) (\d+)\r?\n`)
	entryRE    = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)`)
	refRE      = regexp.MustCompile(`^(\d+) (\d+) R$`)
	intRE      = regexp.MustCompile(`^\d+$`)
	refTailRE  = regexp.MustCompile(`^\s+\d+\s+R\b`)
	kidRE      = regexp.MustCompile(`\d+ \d+ R`)
	spacesRE   = regexp.MustCompile(`\s+`)
)

// maxNesting bounds arrays and dictionaries inside one another.
const maxNesting = 64

type object struct {
	num, gen   int
	start, end int               // byte range from "N G obj" to just past "endobj"
	dict       map[string]string // top-level entries of a dictionary object
	value      string            // the value of any other object
}

// Check validates b and says what it holds.
func Check(b []byte) (Info, error) {
	m := headerRE.FindSubmatch(b)
	if m == nil {
		return Info{}, errors.New("no %PDF-1.x header line")
	}
	info := Info{Version: string(m[1])}

	tail := bytes.TrimRight(b, "\r\n")
	if !bytes.HasSuffix(tail, []byte("%%EOF")) {
		return info, errors.New("does not end with %%EOF")
	}
	sx := bytes.LastIndex(tail, []byte("startxref"))
	if sx < 0 {
		return info, errors.New("no startxref")
	}
	xrefAt, err := strconv.Atoi(string(bytes.TrimSpace(tail[sx+len("startxref") : len(tail)-len("%%EOF")])))
	if err != nil || xrefAt <= 0 || xrefAt >= sx {
		return info, fmt.Errorf("startxref does not hold an offset before itself")
	}
	if !bytes.HasPrefix(b[xrefAt:], []byte("xref")) {
		return info, fmt.Errorf("startxref %d does not point at an xref table", xrefAt)
	}

	entries, trailerAt, err := readXref(b, xrefAt)
	if err != nil {
		return info, err
	}
	trailer, err := readTrailer(b, trailerAt, sx)
	if err != nil {
		return info, err
	}
	if _, ok := trailer["/Prev"]; ok {
		return info, errors.New("incremental updates (/Prev) are not expected here")
	}
	size, err := strconv.Atoi(trailer["/Size"])
	if err != nil || size != len(entries) {
		return info, fmt.Errorf("trailer /Size %q, but the xref table has %d entries", trailer["/Size"], len(entries))
	}

	objects := map[int]*object{}
	var spans [][2]int
	for num, e := range entries {
		if !e.inUse {
			continue
		}
		o, err := readObject(b, e.offset, xrefAt)
		if err != nil {
			return info, fmt.Errorf("object %d at %d: %w", num, e.offset, err)
		}
		if o.num != num || o.gen != e.gen {
			return info, fmt.Errorf("xref entry %d points at object %d %d", num, o.num, o.gen)
		}
		objects[num] = o
	}
	info.Objects = len(objects)
	// Streams are checked once every object is known: a /Length may be a
	// reference to another object.
	for _, o := range objects {
		if err := checkStream(b, o, objects); err != nil {
			return info, fmt.Errorf("object %d: %w", o.num, err)
		}
		spans = append(spans, [2]int{o.start, o.end})
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	for i := 1; i < len(spans); i++ {
		if spans[i][0] < spans[i-1][1] {
			return info, fmt.Errorf("objects at %d and %d overlap", spans[i-1][0], spans[i][0])
		}
	}

	root, err := deref(trailer["/Root"], objects)
	if err != nil {
		return info, fmt.Errorf("trailer /Root: %w", err)
	}
	if root.dict["/Type"] != "/Catalog" {
		return info, fmt.Errorf("/Root is %q, not a /Catalog", root.dict["/Type"])
	}
	pages, err := deref(root.dict["/Pages"], objects)
	if err != nil {
		return info, fmt.Errorf("catalog /Pages: %w", err)
	}
	if info.Pages, err = countPages(pages, objects, 0); err != nil {
		return info, err
	}
	if info.Pages == 0 {
		return info, errors.New("the page tree has no pages")
	}
	return info, nil
}

type xrefEntry struct {
	offset, gen int
	inUse       bool
}

// readXref reads the table's subsections up to "trailer".
func readXref(b []byte, at int) ([]xrefEntry, int, error) {
	p := at + len("xref")
	p = skipEOL(b, p)
	var entries []xrefEntry
	for {
		if bytes.HasPrefix(b[p:], []byte("trailer")) {
			break
		}
		m := subsecRE.FindSubmatch(b[p:])
		if m == nil {
			return nil, 0, fmt.Errorf("xref: malformed subsection header at %d", p)
		}
		first, _ := strconv.Atoi(string(m[1]))
		count, _ := strconv.Atoi(string(m[2]))
		if first != len(entries) {
			return nil, 0, fmt.Errorf("xref: subsection starts at %d, expected %d (gaps are not written here)", first, len(entries))
		}
		p += len(m[0])
		for i := 0; i < count; i++ {
			if len(b)-p < 20 {
				return nil, 0, errors.New("xref: table cut short")
			}
			e := entryRE.Find(b[p : p+20])
			if e == nil || len(e) != 20 {
				return nil, 0, fmt.Errorf("xref: entry %d is not 20 bytes of nnnnnnnnnn ggggg n|f", first+i)
			}
			off, _ := strconv.Atoi(string(e[0:10]))
			gen, _ := strconv.Atoi(string(e[11:16]))
			entries = append(entries, xrefEntry{offset: off, gen: gen, inUse: e[17] == 'n'})
			p += 20
		}
	}
	if len(entries) == 0 || entries[0].inUse || entries[0].gen != 65535 {
		return nil, 0, errors.New("xref: entry 0 must be the free list head 0000000000 65535 f")
	}
	return entries, p, nil
}

func readTrailer(b []byte, at, end int) (map[string]string, error) {
	p := skipSpace(b, at+len("trailer"))
	if !bytes.HasPrefix(b[p:], []byte("<<")) {
		return nil, errors.New("trailer: no dictionary")
	}
	dict, next, err := parseDict(b, p, 0)
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	if skipSpace(b, next) != end {
		return nil, errors.New("trailer: something between the dictionary and startxref")
	}
	return dict, nil
}

// readObject reads "N G obj ... endobj" at off, a dictionary's top-level
// entries and, for a stream, leaves its length to checkStream.
func readObject(b []byte, off, limit int) (*object, error) {
	if off <= 0 || off >= limit {
		return nil, errors.New("offset outside the body")
	}
	m := objStartRE.FindSubmatch(b[off:min(len(b), off+32)])
	if m == nil {
		return nil, errors.New(`no "N G obj" there`)
	}
	o := &object{start: off}
	o.num, _ = strconv.Atoi(string(m[1]))
	o.gen, _ = strconv.Atoi(string(m[2]))
	p := skipSpace(b, off+len(m[0]))
	if bytes.HasPrefix(b[p:], []byte("<<")) {
		dict, next, err := parseDict(b, p, 0)
		if err != nil {
			return nil, err
		}
		o.dict = dict
		p = skipSpace(b, next)
		if bytes.HasPrefix(b[p:], []byte("stream")) {
			o.end = -p // a stream: its end is known once /Length is
			return o, nil
		}
	} else {
		next, err := skipValue(b, p, 0)
		if err != nil {
			return nil, err
		}
		o.value = string(b[p:next])
		p = skipSpace(b, next)
	}
	if !bytes.HasPrefix(b[p:], []byte("endobj")) {
		return nil, errors.New("no endobj after the value")
	}
	o.end = p + len("endobj")
	return o, nil
}

// checkStream checks that exactly /Length bytes lie between "stream" and
// "endstream".
func checkStream(b []byte, o *object, objects map[int]*object) error {
	if o.end >= 0 {
		return nil
	}
	p := -o.end + len("stream")
	switch {
	case bytes.HasPrefix(b[p:], []byte("\r\n")):
		p += 2
	case bytes.HasPrefix(b[p:], []byte("\n")):
		p++
	default:
		return errors.New(`"stream" is not followed by an end of line`)
	}
	raw := o.dict["/Length"]
	if refRE.MatchString(raw) {
		target, err := deref(raw, objects)
		if err != nil {
			return fmt.Errorf("/Length: %w", err)
		}
		raw = target.value
	}
	if !intRE.MatchString(raw) {
		return fmt.Errorf("/Length %q is not a length", raw)
	}
	n, _ := strconv.Atoi(raw)
	q := p + n
	if q > len(b) {
		return fmt.Errorf("/Length %d runs past the end of the file", n)
	}
	q = skipEOL(b, q)
	if !bytes.HasPrefix(b[q:], []byte("endstream")) {
		return fmt.Errorf("/Length %d does not end at endstream", n)
	}
	q = skipSpace(b, q+len("endstream"))
	if !bytes.HasPrefix(b[q:], []byte("endobj")) {
		return errors.New("no endobj after endstream")
	}
	o.end = q + len("endobj")
	return nil
}

func deref(raw string, objects map[int]*object) (*object, error) {
	m := refRE.FindStringSubmatch(raw)
	if m == nil {
		return nil, fmt.Errorf("%q is not a reference", raw)
	}
	num, _ := strconv.Atoi(m[1])
	gen, _ := strconv.Atoi(m[2])
	o, ok := objects[num]
	if !ok || o.gen != gen {
		return nil, fmt.Errorf("%q names no object in use", raw)
	}
	return o, nil
}

func countPages(node *object, objects map[int]*object, depth int) (int, error) {
	if depth > 32 {
		return 0, errors.New("page tree deeper than 32 levels")
	}
	switch node.dict["/Type"] {
	case "/Page":
		return 1, nil
	case "/Pages":
	default:
		return 0, fmt.Errorf("object %d in the page tree is %q", node.num, node.dict["/Type"])
	}
	kids := node.dict["/Kids"]
	if len(kids) < 2 || kids[0] != '[' || kids[len(kids)-1] != ']' {
		return 0, fmt.Errorf("object %d: /Kids is not an array", node.num)
	}
	refs := kidRE.FindAllString(kids, -1)
	total := 0
	for _, r := range refs {
		kid, err := deref(r, objects)
		if err != nil {
			return 0, fmt.Errorf("object %d /Kids: %w", node.num, err)
		}
		n, err := countPages(kid, objects, depth+1)
		if err != nil {
			return 0, err
		}
		total += n
	}
	if c := node.dict["/Count"]; c != strconv.Itoa(total) {
		return 0, fmt.Errorf("object %d: /Count %s, but its kids hold %d pages", node.num, c, total)
	}
	return total, nil
}

// parseDict reads the dictionary starting at "<<" and returns its top-level
// entries, each value as its raw text.
func parseDict(b []byte, p, depth int) (map[string]string, int, error) {
	if depth > maxNesting {
		return nil, p, errors.New("nested deeper than 64 levels")
	}
	p += 2
	dict := map[string]string{}
	for {
		p = skipSpace(b, p)
		if p >= len(b) {
			return nil, p, errors.New("dictionary not closed")
		}
		if bytes.HasPrefix(b[p:], []byte(">>")) {
			return dict, p + 2, nil
		}
		if b[p] != '/' {
			return nil, p, fmt.Errorf("dictionary key at %d is not a name", p)
		}
		k := p
		p = nameEnd(b, p+1)
		key := string(b[k:p])
		v := skipSpace(b, p)
		end, err := skipValue(b, v, depth+1)
		if err != nil {
			return nil, end, fmt.Errorf("value of %s: %w", key, err)
		}
		// An indirect reference is three tokens: "N G R".
		if intRE.Match(b[v:end]) {
			if m := refTailRE.Find(b[end:min(len(b), end+24)]); m != nil {
				end += len(m)
			}
		}
		dict[key] = string(spacesRE.ReplaceAll(bytes.TrimSpace(b[v:end]), []byte(" ")))
		p = end
	}
}

// skipValue returns the end of the PDF value starting at p.
func skipValue(b []byte, p, depth int) (int, error) {
	if depth > maxNesting {
		return p, errors.New("nested deeper than 64 levels")
	}
	if p >= len(b) {
		return p, errors.New("value missing")
	}
	switch c := b[p]; {
	case c == '/':
		return nameEnd(b, p+1), nil
	case c == '(':
		depth := 0
		for i := p; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					return i + 1, nil
				}
			}
		}
		return p, errors.New("string not closed")
	case c == '<' && bytes.HasPrefix(b[p:], []byte("<<")):
		_, end, err := parseDict(b, p, depth+1)
		return end, err
	case c == '<':
		end := bytes.IndexByte(b[p:], '>')
		if end < 0 {
			return p, errors.New("hex string not closed")
		}
		return p + end + 1, nil
	case c == '[':
		p++
		for {
			p = skipSpace(b, p)
			if p >= len(b) {
				return p, errors.New("array not closed")
			}
			if b[p] == ']' {
				return p + 1, nil
			}
			next, err := skipValue(b, p, depth+1)
			if err != nil {
				return next, err
			}
			p = next
		}
	default:
		// Numbers, booleans, null and the R of a reference: a run of regular
		// characters.
		end := p
		for end < len(b) && !isSpace(b[end]) && !isDelimiter(b[end]) {
			end++
		}
		if end == p {
			return p, fmt.Errorf("unexpected %q", c)
		}
		return end, nil
	}
}

func nameEnd(b []byte, p int) int {
	for p < len(b) && !isSpace(b[p]) && !isDelimiter(b[p]) {
		p++
	}
	return p
}

func skipSpace(b []byte, p int) int {
	for p < len(b) {
		switch {
		case isSpace(b[p]):
			p++
		case b[p] == '%': // a comment runs to the end of its line
			for p < len(b) && b[p] != '\n' && b[p] != '\r' {
				p++
			}
		default:
			return p
		}
	}
	return p
}

func skipEOL(b []byte, p int) int {
	if bytes.HasPrefix(b[p:], []byte("\r\n")) {
		return p + 2
	}
	if p < len(b) && (b[p] == '\n' || b[p] == '\r') {
		return p + 1
	}
	return p
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelimiter(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}
