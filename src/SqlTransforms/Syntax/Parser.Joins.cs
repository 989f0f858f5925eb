namespace DataPlane.SqlTransforms.Syntax;

/// <summary>Joins in FROM: the join words after a table reference, and its ON condition.</summary>
internal sealed partial class Parser
{
    /// <summary><paramref name="left"/> followed by any number of joins, nested to the left.</summary>
    private TableReference Joins(TableReference left)
    {
        while (true)
        {
            int start = Peek.Start;
            if (Peek.IsSymbol(","))
                throw Error("a comma between tables (an implicit cross join) is not supported; write JOIN ... ON (or CROSS JOIN)");
            if (IsWord("NATURAL"))
                throw Error("NATURAL JOIN is not supported; write JOIN ... ON with the columns to match");
            JoinKind kind;
            bool cross = false;
            if (IsWord("JOIN")) kind = JoinKind.Inner;
            else if (IsWord("INNER")) { _next++; kind = JoinKind.Inner; }
            else if (IsWord("CROSS")) { _next++; kind = JoinKind.Inner; cross = true; }
            else if (IsWord("LEFT") || IsWord("RIGHT") || IsWord("FULL"))
            {
                kind = IsWord("LEFT") ? JoinKind.Left : IsWord("RIGHT") ? JoinKind.Right : JoinKind.Full;
                _next++;
                if (IsWord("OUTER")) _next++;
                else if (IsWord("SEMI") || IsWord("ANTI"))
                    throw Error($"{Peek.Text.ToUpperInvariant()} JOIN is not supported; write the condition with a join and a filter");
            }
            else if (IsWord("ASOF") || IsWord("POSITIONAL"))
                throw Error($"{Peek.Text.ToUpperInvariant()} joins are not supported; joins are INNER, LEFT, RIGHT or FULL [OUTER] JOIN ... ON");
            else return left;
            ExpectWord("JOIN");
            Enter();
            var right = TableReference();
            Leave();
            SqlExpression? on = null;
            if (cross)
            {
                if (IsWord("ON")) throw Error("CROSS JOIN takes no ON condition; write JOIN ... ON");
            }
            else if (IsWord("USING"))
                throw Error("JOIN ... USING (columns) is not supported; write ON left.column = right.column");
            else
            {
                ExpectWord("ON");
                on = Expression();
            }
            left = new JoinedTables(left, right, kind, on, start);
        }
    }
}
