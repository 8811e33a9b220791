package report

import (
	"fmt"
	"html/template"
)

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.2f%%", v) },
	"bar": func(v float64) string { return fmt.Sprintf("%.2f", min(100, v)) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 64em; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.25em 0.8em; border-bottom: 1px solid #eee; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.held { color: #1a7f37; font-weight: 600; } .violated { color: #cf222e; font-weight: 600; }
.bar { background: #eee; width: 14em; height: 0.9em; display: inline-block; vertical-align: middle; }
.bar span { background: #6f42c1; height: 100%; display: block; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; font-size: 0.8em; line-height: 1.3; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; }
footer { margin-top: 3em; color: #888; font-size: 0.8em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{with .Run}}
<h2>Summary</h2>
<table>
{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>

<h2>Invariants</h2>
<table>
{{range .Verdict}}<tr><th>{{.Name}}</th><td class="{{if .Held}}held{{else}}violated{{end}}">{{.Text}}</td></tr>
{{end}}</table>

<h2>Accounts: the four cohorts of the incident notice</h2>
<p class="note">An account may be in more than one cohort (its own thumbnails exposed and others' received). {{.Summary.Cohorts.Affected}} of {{.Summary.Accounts}} accounts were affected in some way.</p>
<table>
<tr><th>cohort</th><th class="num">accounts</th><th class="num">share</th><th></th></tr>
{{range .Cohorts}}<tr><td>{{.Name}}</td><td class="num">{{.Count}}</td><td class="num">{{pct .Percent}}</td><td><span class="bar"><span style="width: {{bar .Percent}}%"></span></span></td></tr>
{{end}}</table>

<h2>Over time</h2>
{{range .Figures}}<figure><img alt="{{.Caption}}" src="{{.PNG}}"><figcaption>{{.Caption}}</figcaption></figure>
{{end}}

<h2>The first counterexample</h2>
{{if .Timeline}}{{with .Headline}}<p><strong>Why:</strong> {{.}}</p>{{end}}
<p class="note">The judge's causal slice (stormproof check): each step with the trace line it comes from and why it followed from the steps before.</p>
<pre>{{.Timeline}}</pre>
{{else}}<p class="note">{{.TimelineNote}}</p>{{end}}
{{end}}
{{with .Sweep}}
<h2>What was swept</h2>
<table>
<tr><th>scenario</th><td>{{.Manifest.Scenario}}{{with .Manifest.Scale}} at scale ×{{.}}{{end}} ({{.Manifest.Design}})</td></tr>
{{with .Manifest.Description}}<tr><th>description</th><td>{{.}}</td></tr>{{end}}
{{range .Manifest.Fixed}}<tr><th>{{.Path}}</th><td>{{index .Labels 0}} (every cell)</td></tr>
{{end}}{{range .Manifest.Axes}}<tr><th>{{.Path}}</th><td>{{range $i, $l := .Labels}}{{if $i}}, {{end}}{{$l}}{{end}}</td></tr>
{{end}}<tr><th>seeds</th><td>{{len .Manifest.Seeds}} per point ({{.Manifest.Cells}} cells)</td></tr>
</table>
{{with .Note}}<p class="note">{{.}}</p>{{end}}
{{with .Heatmap}}<h2>Heatmap</h2>
<figure><img alt="{{.Caption}}" src="{{.PNG}}"><figcaption>{{.Caption}}</figcaption></figure>{{end}}
{{if .Rows}}<h2>Per grid point: mean ± half-width of the 95% confidence interval (sd)</h2>
<p class="note">Over the seeds of each point; the interval is Student t with n−1 degrees of freedom.</p>
<table>
<tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{with .Files}}<p class="note">Tables beside this page: {{range $i, $f := .}}{{if $i}}, {{end}}{{$f}}{{end}}.</p>{{end}}
{{end}}
<footer>{{.Tool}}</footer>
</body>
</html>
`))
