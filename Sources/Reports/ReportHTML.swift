import Foundation
import Mustache

/// `forewarn status --period P --format html`: one self-contained file (inline CSS and SVG, no
/// script, no external asset; the Content-Security-Policy forbids both) that prints on A4.
/// Every value goes through Mustache's escaping: the template has no triple braces.
extension OperationsReport {
    public var html: String {
        // The template is a constant checked by the tests: it always parses.
        let template = try! MustacheTemplate(string: Self.htmlTemplate)
        return template.render(ReportHTMLView(self))
    }

    static let htmlTemplate = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <title>{{title}}</title>
        <style>
        @page { size: A4; margin: 12mm; }
        * { box-sizing: border-box; }
        body { font: 10pt/1.35 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 186mm; }
        h1 { font-size: 15pt; margin: 0 0 2mm; }
        h2 { font-size: 11.5pt; margin: 5mm 0 2mm; border-bottom: 1px solid #ccc; }
        p.meta { margin: 0; color: #555; }
        section { break-inside: avoid; page-break-inside: avoid; }
        .tiles { display: flex; gap: 4mm; margin-top: 4mm; }
        .tile { flex: 1; border: 1px solid #ccc; border-left: 3mm solid #999; padding: 2mm 3mm; }
        .tile.met { border-left-color: #2e7d32; }
        .tile.missed { border-left-color: #c62828; }
        .tile .name { font-size: 9pt; color: #555; }
        .tile .value { font-size: 18pt; font-weight: bold; }
        .tile .status { font-size: 9pt; font-weight: bold; text-transform: uppercase; }
        .tile.met .status { color: #2e7d32; }
        .tile.missed .status { color: #c62828; }
        .tile .counted { font-size: 8.5pt; color: #555; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 0.6mm 1.5mm; border-bottom: 1px solid #eee; font-size: 9pt; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        svg { width: 100%; height: auto; display: block; }
        svg text { font-size: 11px; fill: #333; }
        .minor { fill: #9ecae1; } .major { fill: #f39c4a; } .critical { fill: #c62828; }
        .early { fill: #2e7d32; } .late { fill: #c62828; } .none { fill: #999; } .band { fill: #4f81bd; } .credit { fill: #7b5ea7; }
        .axis { stroke: #999; stroke-width: 1; } .grid { stroke: #e4e4e4; stroke-width: 1; }
        .gauge { fill: #eee; } .fill { fill: #4f81bd; } .target { stroke: #1a1a1a; stroke-width: 2; }
        .legend span { display: inline-block; margin-right: 4mm; font-size: 8.5pt; }
        .legend i { display: inline-block; width: 3mm; height: 3mm; margin-right: 1mm; vertical-align: middle; }
        .legend i.minor { background: #9ecae1; } .legend i.major { background: #f39c4a; } .legend i.critical { background: #c62828; }
        </style>
        </head>
        <body>
        <h1>{{title}}</h1>
        <p class="meta">{{period}}; as of {{asOf}}{{#notEnded}} (the period has not ended){{/notEnded}}</p>
        <section class="tiles" id="kpis">
        {{#tiles}}
        <div class="tile {{statusClass}}">
        <div class="name">{{name}}</div>
        <div class="value">{{value}}</div>
        <div>target {{target}} · <span class="status">{{status}}</span></div>
        <svg viewBox="0 0 200 14" role="img" aria-label="{{name}} {{value}}, target {{target}}, scale {{scale}}"><rect class="gauge" x="0" y="3" width="200" height="8"/><rect class="fill" x="0" y="3" width="{{fill}}" height="8"/><line class="target" x1="{{targetX}}" y1="0" x2="{{targetX}}" y2="14"/></svg>
        <div class="counted">{{counted}}</div>
        </div>
        {{/tiles}}
        </section>
        <section id="facts">
        <h2>Figures</h2>
        <table>
        {{#facts}}<tr><th>{{name}}</th><td>{{value}}</td></tr>
        {{/facts}}
        </table>
        </section>
        {{#weekly}}
        <section id="{{id}}">
        <h2>{{title}}</h2>
        <div class="legend"><span><i class="minor"></i>minor</span><span><i class="major"></i>major</span><span><i class="critical"></i>critical</span></div>
        <svg viewBox="0 0 700 {{height}}" role="img" aria-label="{{title}}">
        {{#ticks}}<line class="grid" x1="90" y1="{{y}}" x2="690" y2="{{y}}"/><text x="84" y="{{y}}" text-anchor="end" dy="4">{{label}}</text>
        {{/ticks}}
        {{#columns}}{{#segments}}<rect class="{{kind}}" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}"><title>{{title}}</title></rect>{{/segments}}{{#showLabel}}<text x="{{labelX}}" y="{{baseY}}" dy="14" text-anchor="middle">{{label}}</text>{{/showLabel}}
        {{/columns}}
        <line class="axis" x1="90" y1="{{baseY}}" x2="690" y2="{{baseY}}"/>
        </svg>
        </section>
        {{/weekly}}
        {{#rowCharts}}
        <section id="{{id}}">
        <h2>{{title}}</h2>
        <svg viewBox="0 0 700 {{height}}" role="img" aria-label="{{title}}">
        {{#rows}}<text x="0" y="{{textY}}">{{label}}</text><rect class="{{kind}}" x="300" y="{{y}}" width="{{width}}" height="16"/><text x="{{valueX}}" y="{{textY}}">{{value}}</text>
        {{/rows}}
        </svg>
        </section>
        {{/rowCharts}}
        <section id="worst-elements">
        <h2>Ten worst elements</h2>
        <table>
        <tr><th>element</th><th class="n">lines</th><th class="n">hit</th><th class="n">down (line-h)</th><th class="n">availability</th><th></th></tr>
        {{#worstElements}}<tr><td>{{label}}</td><td class="n">{{lines}}</td><td class="n">{{hit}}</td><td class="n">{{down}}</td><td class="n">{{availability}}</td><td><svg viewBox="0 0 100 8" style="width:25mm"><rect class="late" x="0" y="1" width="{{barWidth}}" height="6"/></svg></td></tr>
        {{/worstElements}}
        {{#noWorstElements}}<tr><td colspan="6">no element had an outage</td></tr>{{/noWorstElements}}
        </table>
        </section>
        <section id="worst-customers">
        <h2>Ten worst customers</h2>
        <table>
        <tr><th>customer</th><th class="n">lines</th><th class="n">hit</th><th class="n">down (line-h)</th><th class="n">availability</th><th></th></tr>
        {{#worstCustomers}}<tr><td>{{label}}</td><td class="n">{{lines}}</td><td class="n">{{hit}}</td><td class="n">{{down}}</td><td class="n">{{availability}}</td><td><svg viewBox="0 0 100 8" style="width:25mm"><rect class="late" x="0" y="1" width="{{barWidth}}" height="6"/></svg></td></tr>
        {{/worstCustomers}}
        {{#noWorstCustomers}}<tr><td colspan="6">no customer had an outage</td></tr>{{/noWorstCustomers}}
        </table>
        </section>
        {{#credits}}
        <section id="{{id}}">
        <h2>{{title}}</h2>
        <svg viewBox="0 0 700 {{height}}" role="img" aria-label="{{title}}">
        {{#ticks}}<line class="grid" x1="90" y1="{{y}}" x2="690" y2="{{y}}"/><text x="84" y="{{y}}" text-anchor="end" dy="4">{{label}}</text>
        {{/ticks}}
        {{#columns}}{{#segments}}<rect class="{{kind}}" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}"><title>{{title}}</title></rect>{{/segments}}<text x="{{labelX}}" y="{{baseY}}" dy="14" text-anchor="middle">{{label}}</text>
        {{/columns}}
        <line class="axis" x1="90" y1="{{baseY}}" x2="690" y2="{{baseY}}"/>
        </svg>
        </section>
        {{/credits}}
        {{#noCredits}}<section id="credits"><h2>Credits per month</h2><p>No credits in the months of this period.</p></section>{{/noCredits}}
        </body>
        </html>

        """
}
