#pragma once

// The dashboard's stylesheet, inlined into every page: light and dark themes through
// prefers-color-scheme, a print layout, and the script-free sorting of the findings table (radio
// buttons give every row its rank in the chosen order as CSS `order`).

namespace secmlops::host::dashboard {

inline constexpr const char* kDashboardCss = R"css(
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;--panel:#f6f8fa;
--link:#0969da;--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;--grid:#e6e9ed;
--critical:#8b0820;--high:#cf222e;--medium:#bc4c00;--low:#9a6700;--info:#59636e;
--banner-pass:#1a7f37;--banner-fail:#cf222e;--banner-error:#9a6700;--banner-other:#59636e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--border:#3d444d;
--panel:#151b23;--link:#4493f8;--pass:#3fb950;--fail:#f85149;--error:#d29922;--grid:#262c36;
--critical:#ff9492;--high:#f85149;--medium:#f0883e;--low:#d29922;--info:#9198a1;
--banner-pass:#196c2e;--banner-fail:#a0111f;--banner-error:#7d4e00;--banner-other:#3d444d}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
a{color:var(--link)}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
.wrap{max-width:1400px;margin:0 auto;padding:0 20px 40px}
header.banner{padding:18px 20px;color:#fff;background:var(--banner-other)}
header.banner.pass{background:var(--banner-pass)}header.banner.fail{background:var(--banner-fail)}
header.banner.error{background:var(--banner-error)}
header.banner h1{margin:0;font-size:22px;font-weight:600}
header.banner .verdict{font-size:30px;font-weight:700;letter-spacing:.04em;margin:2px 0 6px}
header.banner ul{margin:6px 0 0;padding-left:0;list-style:none}
header.banner li{margin:2px 0}
header.banner code{font-size:13px}
header.banner .worst{margin-top:6px}
nav{position:sticky;top:0;z-index:2;background:var(--panel);border-bottom:1px solid var(--border);
padding:6px 20px;font-size:13px}
nav a{margin-right:14px;text-decoration:none}
h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--border)}
h3{font-size:15px;margin:18px 0 6px}
.muted{color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:6px 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid var(--border);padding:3px 7px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.tablewrap{overflow:auto;max-width:100%}
.chart-table :is(th,td),table.attacks td.num{white-space:nowrap}
.tablewrap.tall{max-height:75vh}
.tablewrap.tall thead th{position:sticky;top:0;z-index:1}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
.card{border:1px solid var(--border);border-radius:6px;padding:10px 14px;background:var(--bg)}
.card h3{margin-top:2px}
.chart-row{display:grid;grid-template-columns:minmax(360px,640px) minmax(0,1fr);gap:16px;align-items:start;
margin:10px 0 24px;break-inside:avoid}
@media (max-width:1000px){.chart-row{grid-template-columns:1fr}}
svg.chart{width:100%;height:auto;background:var(--bg);border:1px solid var(--border);border-radius:6px}
svg.chart .grid{stroke:var(--grid);stroke-width:1}
svg.chart .axis{stroke:var(--muted);stroke-width:1}
svg.chart text{fill:var(--fg);font-size:11px;font-family:inherit}
svg.chart .ctitle{font-size:13px;font-weight:600}
svg.chart .alabel{fill:var(--muted);font-size:12px}
svg.chart polyline{stroke-width:2;stroke-linejoin:round}
svg.chart .series:hover polyline{stroke-width:4}
svg.chart .pt{stroke:var(--bg);stroke-width:1}
svg.chart .pt:hover{r:6}
svg.swatch{vertical-align:middle;margin-right:4px}
.sev{display:inline-block;min-width:5.5em;font-weight:600}
.sev-CRITICAL{color:var(--critical)}.sev-HIGH{color:var(--high)}.sev-MEDIUM{color:var(--medium)}
.sev-LOW{color:var(--low)}.sev-INFO{color:var(--info)}
.bar{display:inline-block;height:10px;background:currentColor;vertical-align:middle;min-width:1px}
.st-ok{color:var(--pass)}.st-bad{color:var(--fail)}.st-warn{color:var(--error)}
.loc .sep{color:var(--muted)}
td.msg,td.ev,td.loc{overflow-wrap:anywhere}
.ev code{white-space:pre-wrap}
.sortable>input{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.sortbar{margin:6px 0;font-size:13px}
.sortbar label{cursor:pointer;display:inline-block;padding:1px 10px;margin-left:4px;border:1px solid var(--border);
border-radius:12px}
.sortable>input:focus-visible~.sortbar{outline:2px solid var(--link);outline-offset:2px}
#fs-sev:checked~.sortbar label[for=fs-sev],#fs-rule:checked~.sortbar label[for=fs-rule],
#fs-loc:checked~.sortbar label[for=fs-loc],#fs-scn:checked~.sortbar label[for=fs-scn]{background:var(--link);
color:#fff;border-color:var(--link)}
th label{cursor:pointer;text-decoration:underline dotted}
/* The findings table: rows are grids of fixed column widths stacked in a flex column, so sorting
   is only a change of `order`, and rows off screen are skipped by content-visibility. */
table.findings{display:block;min-width:1000px;margin:0}
table.findings :is(thead,tbody){display:flex;flex-direction:column}
table.findings tr{display:grid;grid-template-columns:7.5em 15em minmax(0,3fr) minmax(0,3fr) minmax(0,2fr) 6em}
table.findings :is(th,td){border-width:0 0 1px 0}
table.findings tbody tr{content-visibility:auto;contain-intrinsic-size:auto 46px}
.tablewrap.tall table.findings thead{position:sticky;top:0;z-index:1}
.tablewrap.tall table.findings thead th{position:static}
#fs-rule:checked~.tablewrap tbody tr{order:var(--r)}
#fs-loc:checked~.tablewrap tbody tr{order:var(--l)}
#fs-scn:checked~.tablewrap tbody tr{order:var(--n)}
footer{margin-top:30px;font-size:12px;color:var(--muted)}
@media print{
:root{--bg:#fff;--fg:#000;--muted:#444;--border:#bbb;--panel:#f2f2f2;--link:#000;--grid:#ddd}
body{font-size:11px}
nav,.sortbar{display:none}
header.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.tablewrap,.tablewrap.tall{overflow:visible;max-height:none}
.tablewrap.tall thead th,.tablewrap.tall table.findings thead{position:static}
table.findings tbody tr{content-visibility:visible}
.chart-row{grid-template-columns:1fr}
svg.chart{max-width:16cm}
.card,figure,tr{break-inside:avoid}
h2{break-after:avoid}
a{text-decoration:none}
}
)css";

}  // namespace secmlops::host::dashboard
