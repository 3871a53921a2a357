# Render Markdown bodies with the real kramdown GFM parser, as Jekyll does for zarr.dev.
#
# Input on stdin: a JSON array of Markdown bodies (front matter already removed).
# Output on stdout: a JSON array; for each body the list of its parts, split before every
# top-level level-2 heading: {"id": heading id or null for the part before the first heading,
# "atx": true for "## " headings (false for setext ones), "base": the id before kramdown's
# duplicate counter, "explicit": whether the id was written in the source, "html": the part's
# HTML}.
#
# Jekyll renders Liquid before kramdown; the two Liquid blocks our pages use are emulated:
# {% highlight %} becomes Jekyll's <figure class="highlight"> block, {% comment %} disappears.
#
# Used by tests/markdown/kramdown_reference.py (see there for how to regenerate fixtures).
require "json"
require "cgi"
require "kramdown"
require "kramdown-parser-gfm"

MARK = "<!--zarr-section-->"

def liquid(body)
  body = body.gsub(/\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}/m, "")
  body.gsub(/\{%-?\s*highlight\s+(\S+)[^%]*?-?%\}\n?(.*?)\{%-?\s*endhighlight\s*-?%\}/m) do
    lang, code = $1, $2
    "<figure class=\"highlight\"><pre><code class=\"language-#{lang}\" data-lang=\"#{lang}\">" \
      "#{CGI.escapeHTML(code)}</code></pre></figure>"
  end
end

def render(body)
  source = liquid(body)
  lines = source.gsub(/\r\n?/, "\n").lines
  doc = Kramdown::Document.new(source, input: "GFM", hard_wrap: false)
  plain = Kramdown::Document.new(source, input: "GFM", hard_wrap: false, auto_ids: false)
  explicit = plain.root.children.select { |c| c.type == :header && c.options[:level] == 2 }
  heads = []
  children = []
  doc.root.children.each do |child|
    if child.type == :header && child.options[:level] == 2
      line = lines[child.options[:location] - 1].to_s
      base = child.options[:raw_text].downcase.gsub(/[^\p{Word}\- \t]/, "").tr(" \t", "-")
      given = explicit[heads.size].attr.key?("id")
      heads << {"id" => child.attr["id"], "atx" => line.start_with?("#"), "base" => base,
                "explicit" => given}
      children << Kramdown::Element.new(:raw, MARK, nil, category: :block)
    end
    children << child
  end
  doc.root.children.replace(children)
  parts = doc.to_html.split(MARK, -1)
  parts = [""] if parts.empty?
  [{"id" => nil, "atx" => true, "html" => parts.shift}] +
    heads.zip(parts).map { |head, html| head.merge("html" => html) }
end

puts JSON.generate(JSON.parse($stdin.read).map { |body| render(body) })
