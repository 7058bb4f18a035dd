using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace KernelSim.Cli.Rendering.Html;

/// <summary>
/// A small HTML writer: every text and attribute value goes through <see cref="HtmlEncoder"/>, tag and attribute
/// names must be plain identifiers, and the only unescaped content is the page's own bundled script and style
/// (<see cref="Script"/>, <see cref="Style"/>), so nothing a scenario file says can become markup.
/// </summary>
internal sealed class HtmlBuilder
{
    // All of Unicode stays readable ("→", "−"); <, >, &, quotes and control characters are encoded.
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);
    private readonly StringBuilder _sb = new(1 << 16);
    private readonly Stack<string> _open = new();

    /// <summary>Open an element; attributes with a null value are left out, "" gives a bare attribute.</summary>
    public HtmlBuilder Open(string tag, params (string Name, string? Value)[] attrs)
    {
        StartTag(tag, attrs);
        _open.Push(tag);
        return this;
    }

    /// <summary>The HTML5 doctype.</summary>
    public HtmlBuilder Doctype()
    {
        _sb.Append("<!DOCTYPE html>\n");
        return this;
    }

    /// <summary>Close the innermost open element (which must be <paramref name="tag"/>).</summary>
    public HtmlBuilder Close(string tag)
    {
        var top = _open.Pop();
        if (top != tag) throw new InvalidOperationException($"closing <{tag}> while <{top}> is open");
        _sb.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>An element holding only text.</summary>
    public HtmlBuilder Element(string tag, string text, params (string Name, string? Value)[] attrs)
    {
        StartTag(tag, attrs);
        Text(text);
        _sb.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>A void element (meta, br).</summary>
    public HtmlBuilder Void(string tag, params (string Name, string? Value)[] attrs)
    {
        StartTag(tag, attrs);
        return this;
    }

    /// <summary>Encoded text.</summary>
    public HtmlBuilder Text(string text)
    {
        Encoder.Encode(new StringWriter(_sb), text);
        return this;
    }

    /// <summary>A newline between blocks (keeps the file readable; no meaning in HTML).</summary>
    public HtmlBuilder Line()
    {
        _sb.Append('\n');
        return this;
    }

    /// <summary>
    /// A script element with the page's own bundled code. "&lt;/script" cannot end the element early: it is
    /// written as "&lt;\/script", which means the same inside JavaScript strings and regular expressions.
    /// </summary>
    public HtmlBuilder Script(string code, params (string Name, string? Value)[] attrs)
    {
        StartTag("script", attrs);
        _sb.Append(code.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)).Append("</script>");
        return this;
    }

    /// <summary>A style element with the page's own stylesheet.</summary>
    public HtmlBuilder Style(string css)
    {
        _sb.Append("<style>").Append(css.Replace("</style", "<\\/style", StringComparison.OrdinalIgnoreCase)).Append("</style>");
        return this;
    }

    /// <summary>A comment with the given text ("--" is broken up so it cannot end the comment).</summary>
    public HtmlBuilder Comment(string text)
    {
        _sb.Append("<!--\n").Append(text.Replace("--", "- -", StringComparison.Ordinal)).Append("\n-->");
        return this;
    }

    /// <summary>The document; every element must be closed.</summary>
    public override string ToString()
    {
        if (_open.Count > 0) throw new InvalidOperationException($"<{_open.Peek()}> is not closed");
        return _sb.ToString();
    }

    private void StartTag(string tag, (string Name, string? Value)[] attrs)
    {
        CheckName(tag);
        _sb.Append('<').Append(tag);
        foreach (var (name, value) in attrs)
        {
            if (value == null) continue;
            CheckName(name);
            _sb.Append(' ').Append(name);
            if (value.Length == 0) continue;
            _sb.Append("=\"");
            Encoder.Encode(new StringWriter(_sb), value);
            _sb.Append('"');
        }
        _sb.Append('>');
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0) throw new ArgumentException("empty tag or attribute name");
        foreach (var c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c != '-') throw new ArgumentException($"'{name}' is not a plain tag or attribute name");
    }
}
