using System.Globalization;
using System.Text;

namespace DataPlane.Pipelines.Sql;

/// <summary>
/// Parses the pipeline statement. Keywords are case-insensitive; identifiers may be double-quoted; string literals
/// use single quotes ('' escapes one). Errors say where the statement stopped making sense and what was expected.
/// The statement comes from a request (and is stored and parsed again at every start), so its size is bounded:
/// <see cref="MaxLength"/> characters, <see cref="MaxTerms"/> conditions, <see cref="MaxDepth"/> levels of nesting.
/// </summary>
internal sealed class PipelineSqlParser
{
    /// <summary>Characters in a statement.</summary>
    public const int MaxLength = 65_536;
    /// <summary>Conditions (comparisons and IS [NOT] NULL tests) in the WHERE clause.</summary>
    public const int MaxTerms = 1_000;
    /// <summary>Levels of parentheses and NOT around a condition.</summary>
    public const int MaxDepth = 32;

    private readonly string _sql;
    private readonly List<(string Text, bool Quoted, int Position, TokenKind Kind)> _tokens = [];
    private int _next;
    private int _depth;
    private int _terms;

    private enum TokenKind { Word, Number, String, Symbol, End }

    private PipelineSqlParser(string sql)
    {
        _sql = sql;
        Tokenize();
    }

    /// <summary>The statement; an <see cref="ArgumentException"/> saying what is wrong (or which limit it passes) otherwise.</summary>
    public static PipelineStatement Parse(string sql)
    {
        if (sql.Length > MaxLength)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The SQL statement is {sql.Length} characters; the limit is {MaxLength} characters. A pipeline's WHERE clause takes at most {MaxTerms} conditions."));
        return new PipelineSqlParser(sql).Statement();
    }

    private PipelineStatement Statement()
    {
        Keyword("INSERT");
        Keyword("INTO");
        string sink = Identifier("the sink name");
        Keyword("SELECT");
        List<Projection>? columns = null;
        if (Peek.Text == "*" && Peek.Kind == TokenKind.Symbol)
            _next++;
        else
        {
            columns = [];
            do
            {
                string column = Identifier("a column name or *");
                string output = column;
                if (IsKeyword("AS"))
                {
                    _next++;
                    output = Identifier("the column's new name");
                }
                columns.Add(new Projection(column, output));
            } while (TrySymbol(","));
        }
        Keyword("FROM");
        string stream = Identifier("the stream name");
        Predicate? where = null;
        if (IsKeyword("WHERE"))
        {
            _next++;
            where = Or();
        }
        TrySymbol(";");
        if (Peek.Kind != TokenKind.End)
            throw Error($"unexpected '{Peek.Text}'; the statement ends after FROM <stream> [WHERE ...]");
        return new PipelineStatement(sink, stream, columns, where);
    }

    private Predicate Or()
    {
        var first = And();
        if (!IsKeyword("OR"))
            return first;
        var terms = new List<Predicate> { first };
        while (IsKeyword("OR")) { _next++; terms.Add(And()); }
        return new Predicate.Or(terms);
    }

    private Predicate And()
    {
        var first = Unary();
        if (!IsKeyword("AND"))
            return first;
        var terms = new List<Predicate> { first };
        while (IsKeyword("AND")) { _next++; terms.Add(Unary()); }
        return new Predicate.And(terms);
    }

    private Predicate Unary()
    {
        if (IsKeyword("NOT"))
        {
            Enter();
            _next++;
            var inner = new Predicate.Not(Unary());
            _depth--;
            return inner;
        }
        if (Peek.Kind == TokenKind.Symbol && Peek.Text == "(")
        {
            Enter();
            _next++;
            var inner = Or();
            if (!TrySymbol(")"))
                throw Error($"expected ')' but found '{Peek.Text}'");
            _depth--;
            return inner;
        }
        if (++_terms > MaxTerms)
            throw Error($"the WHERE clause has more than {MaxTerms} conditions, the limit; filter on fewer values (or split the pipeline)");
        string column = Identifier("a column name");
        if (IsKeyword("IS"))
        {
            _next++;
            bool negated = false;
            if (IsKeyword("NOT")) { _next++; negated = true; }
            Keyword("NULL");
            return new Predicate.IsNull(column, negated);
        }
        var op = Peek;
        if (op.Kind != TokenKind.Symbol || op.Text is not ("=" or "!=" or "<>" or "<" or "<=" or ">" or ">="))
            throw Error($"expected a comparison (=, <>, !=, <, <=, >, >=) or IS [NOT] NULL after '{column}', found '{op.Text}'");
        _next++;
        return new Predicate.Compare(column, op.Text == "<>" ? "!=" : op.Text, Literal());
    }

    /// <summary>One more level of nesting (a parenthesis or NOT), refused past <see cref="MaxDepth"/>: the parser recurses per level.</summary>
    private void Enter()
    {
        if (++_depth > MaxDepth)
            throw Error($"the WHERE clause is nested more than {MaxDepth} levels deep (parentheses and NOT), the limit");
    }

    private object Literal()
    {
        var t = Peek;
        _next++;
        switch (t.Kind)
        {
            case TokenKind.String: return t.Text;
            case TokenKind.Number:
                if (long.TryParse(t.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                if (double.TryParse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)) return d;
                _next--;
                throw Error($"'{t.Text}' is not a number");
            case TokenKind.Word when !t.Quoted && t.Text.Equals("TRUE", StringComparison.OrdinalIgnoreCase): return true;
            case TokenKind.Word when !t.Quoted && t.Text.Equals("FALSE", StringComparison.OrdinalIgnoreCase): return false;
        }
        _next--;
        throw Error($"expected a literal (a number, 'text', true or false), found '{t.Text}'");
    }

    private (string Text, bool Quoted, int Position, TokenKind Kind) Peek => _tokens[_next];

    private bool IsKeyword(string keyword) => Peek is { Kind: TokenKind.Word, Quoted: false } && Peek.Text.Equals(keyword, StringComparison.OrdinalIgnoreCase);

    private void Keyword(string keyword)
    {
        if (!IsKeyword(keyword))
            throw Error($"expected {keyword} but found '{(Peek.Kind == TokenKind.End ? "the end" : Peek.Text)}'");
        _next++;
    }

    private bool TrySymbol(string symbol)
    {
        if (Peek.Kind == TokenKind.Symbol && Peek.Text == symbol) { _next++; return true; }
        return false;
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "INSERT", "INTO", "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IS", "NULL", "GROUP", "ORDER", "BY", "LIMIT",
    };

    private string Identifier(string what)
    {
        if (Peek.Kind != TokenKind.Word || (!Peek.Quoted && Reserved.Contains(Peek.Text)))
            throw Error($"expected {what} but found '{(Peek.Kind == TokenKind.End ? "the end" : Peek.Text)}'");
        return _tokens[_next++].Text;
    }

    private ArgumentException Error(string message) =>
        new($"SQL error at position {Peek.Position + 1}: {message}. The pipeline statement is INSERT INTO <sink> SELECT * | <columns> FROM <stream> [WHERE <condition>].");

    private void Tokenize()
    {
        int i = 0;
        while (i < _sql.Length)
        {
            char c = _sql[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < _sql.Length && (char.IsLetterOrDigit(_sql[i]) || _sql[i] == '_')) i++;
                _tokens.Add((_sql[start..i], false, start, TokenKind.Word));
            }
            else if (char.IsDigit(c) || (c is '-' or '.' && i + 1 < _sql.Length && char.IsDigit(_sql[i + 1])))
            {
                i++;
                while (i < _sql.Length && (char.IsDigit(_sql[i]) || _sql[i] is '.' or 'e' or 'E' || (_sql[i] is '+' or '-' && _sql[i - 1] is 'e' or 'E'))) i++;
                _tokens.Add((_sql[start..i], false, start, TokenKind.Number));
            }
            else if (c is '\'' or '"')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= _sql.Length)
                        throw new ArgumentException($"SQL error at position {start + 1}: the {(c == '"' ? "quoted identifier" : "string")} starting here is not closed.");
                    if (_sql[i] == c)
                    {
                        if (i + 1 < _sql.Length && _sql[i + 1] == c) { text.Append(c); i += 2; continue; }
                        i++;
                        break;
                    }
                    text.Append(_sql[i++]);
                }
                _tokens.Add((text.ToString(), c == '"', start, c == '"' ? TokenKind.Word : TokenKind.String));
            }
            else
            {
                string two = i + 1 < _sql.Length ? _sql.Substring(i, 2) : "";
                string symbol = two is "<=" or ">=" or "<>" or "!=" ? two : c.ToString();
                if (symbol.Length == 1 && "*,();=<>".IndexOf(c) < 0)
                    throw new ArgumentException($"SQL error at position {i + 1}: unexpected character '{c}'.");
                i += symbol.Length;
                _tokens.Add((symbol, false, start, TokenKind.Symbol));
            }
        }
        _tokens.Add(("", false, _sql.Length, TokenKind.End));
    }
}
