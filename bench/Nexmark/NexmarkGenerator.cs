using Apache.Arrow;
using Apache.Arrow.Types;

namespace DataPlane.Benchmarks.Nexmark;

/// <summary>
/// Nexmark's auction-site events (persons, auctions, bids) by event number, following the event model of the reference
/// generator (nexmark/nexmark's Flink generator, which Beam's, Arroyo's and RisingWave's also follow): of every 50
/// events 1 is a person, 3 are auctions and 46 are bids; ids grow with the event number; bids go mostly to recent "hot"
/// auctions and bidders; prices are log-uniform between $1 and $1,000,000 (in cents); event time advances by
/// 1/<see cref="NexmarkConfig.EventsPerSecond"/> per event. Values come from a seeded random, so a run is the same
/// every time (not bit-equal to the Java generator's, whose random differs).
/// The three kinds are produced as Arrow batches, one stream each, as DataPlane would receive them.
/// </summary>
internal sealed class NexmarkGenerator
{
    public const long FirstPersonId = 1000;
    public const long FirstAuctionId = 1000;
    public const long FirstCategoryId = 10;
    private const int PersonProportion = 1;
    private const int AuctionProportion = 3;
    private const int TotalProportion = 50;
    private const int HotRatio = 100;
    private const int NumCategories = 5;
    private const int IdLead = 10;
    private const int Channels = 10_000;

    private static readonly string[] States = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    private static readonly string[] Cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
    private static readonly string[] FirstNames = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
    private static readonly string[] LastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
    private static readonly string[] HotChannels = ["Google", "Facebook", "Baidu", "Apple"];

    public static readonly TimestampType TimeType = new(TimeUnit.Microsecond, "UTC");

    public static readonly Schema PersonSchema = new([
        new Field("id", Int64Type.Default, false), new Field("name", StringType.Default, false),
        new Field("email_address", StringType.Default, false), new Field("credit_card", StringType.Default, false),
        new Field("city", StringType.Default, false), new Field("state", StringType.Default, false),
        new Field("datetime", TimeType, false), new Field("extra", StringType.Default, false)], null);

    public static readonly Schema AuctionSchema = new([
        new Field("id", Int64Type.Default, false), new Field("item_name", StringType.Default, false),
        new Field("description", StringType.Default, false), new Field("initial_bid", Int64Type.Default, false),
        new Field("reserve", Int64Type.Default, false), new Field("datetime", TimeType, false),
        new Field("expires", TimeType, false), new Field("seller", Int64Type.Default, false),
        new Field("category", Int64Type.Default, false), new Field("extra", StringType.Default, false)], null);

    public static readonly Schema BidSchema = new([
        new Field("auction", Int64Type.Default, false), new Field("bidder", Int64Type.Default, false),
        new Field("price", Int64Type.Default, false), new Field("channel", StringType.Default, false),
        new Field("url", StringType.Default, false), new Field("datetime", TimeType, false),
        new Field("extra", StringType.Default, false)], null);

    private readonly NexmarkConfig _config;
    private readonly Random _random;
    private readonly string _extraSource;
    private readonly string[] _hotUrls;
    private readonly string[] _channelUrls;
    private readonly string[] _cardParts;

    public NexmarkGenerator(NexmarkConfig config)
    {
        _config = config;
        _random = new Random(config.Seed);
        _extraSource = RandomLetters(1 << 20);
        _hotUrls = [.. HotChannels.Select(_ => BaseUrl())];
        _channelUrls = new string[Channels];
        for (int i = 0; i < Channels; i++)
            _channelUrls[i] = _random.Next(10) > 0 ? BaseUrl() + "&channel_id=" + Math.Abs((long)ReverseBits(i)) : BaseUrl();
        _cardParts = [.. Enumerable.Range(0, 10_000).Select(i => i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>The kind of event number <paramref name="eventId"/>.</summary>
    public static NexmarkEventKind KindOf(long eventId)
    {
        long offset = eventId % TotalProportion;
        return offset < PersonProportion ? NexmarkEventKind.Person
            : offset < PersonProportion + AuctionProportion ? NexmarkEventKind.Auction
            : NexmarkEventKind.Bid;
    }

    /// <summary>Event time of event <paramref name="eventId"/>, in milliseconds since the epoch.</summary>
    public long TimestampOf(long eventId) => _config.BaseTimeMs + eventId * 1000 / _config.EventsPerSecond;

    /// <summary>Generates events [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) into one batch per kind.</summary>
    public NexmarkBatches Generate(long first, int count)
    {
        var persons = new PersonColumns();
        var auctions = new AuctionColumns();
        var bids = new BidColumns();
        for (long eventId = first; eventId < first + count; eventId++)
        {
            long timestamp = TimestampOf(eventId);
            switch (KindOf(eventId))
            {
                case NexmarkEventKind.Person: AppendPerson(persons, eventId, timestamp); break;
                case NexmarkEventKind.Auction: AppendAuction(auctions, eventId, timestamp); break;
                default: AppendBid(bids, eventId, timestamp); break;
            }
        }
        return new NexmarkBatches(persons.Build(), auctions.Build(), bids.Build());
    }

    private void AppendPerson(PersonColumns c, long eventId, long timestamp)
    {
        c.Id.Append(LastPersonId(eventId) + FirstPersonId);
        string name = FirstNames[_random.Next(FirstNames.Length)] + " " + LastNames[_random.Next(LastNames.Length)];
        string email = RandomString(7) + "@" + RandomString(5) + ".com";
        string card = string.Join(' ', _cardParts[_random.Next(10_000)], _cardParts[_random.Next(10_000)], _cardParts[_random.Next(10_000)], _cardParts[_random.Next(10_000)]);
        string city = Cities[_random.Next(Cities.Length)];
        string state = States[_random.Next(States.Length)];
        c.Name.Append(name);
        c.Email.Append(email);
        c.Card.Append(card);
        c.City.Append(city);
        c.State.Append(state);
        c.Time.Append(DateTimeOffset.FromUnixTimeMilliseconds(timestamp));
        c.Extra.Append(Extra(8 + name.Length + email.Length + card.Length + city.Length + state.Length, _config.AveragePersonBytes));
    }

    private void AppendAuction(AuctionColumns c, long eventId, long timestamp)
    {
        c.Id.Append(LastAuctionId(eventId) + FirstAuctionId);
        long seller = _random.Next(_config.HotSellersRatio) > 0
            ? LastPersonId(eventId) / HotRatio * HotRatio
            : NextPersonId(eventId);
        long initialBid = NextPrice();
        string name = RandomString(20);
        string description = RandomString(100);
        // An auction runs until about twice the time it takes for NumInFlightAuctions more auctions to open.
        long horizonMs = TimestampOf(eventId + (long)_config.InFlightAuctions * TotalProportion / AuctionProportion) - timestamp;
        long expires = timestamp + 1 + _random.NextInt64(Math.Max(horizonMs * 2, 1));
        c.ItemName.Append(name);
        c.Description.Append(description);
        c.InitialBid.Append(initialBid);
        c.Reserve.Append(initialBid + NextPrice());
        c.Time.Append(DateTimeOffset.FromUnixTimeMilliseconds(timestamp));
        c.Expires.Append(DateTimeOffset.FromUnixTimeMilliseconds(expires));
        c.Seller.Append(seller + FirstPersonId);
        c.Category.Append(FirstCategoryId + _random.Next(NumCategories));
        c.Extra.Append(Extra(8 + name.Length + description.Length + 40, _config.AverageAuctionBytes));
    }

    private void AppendBid(BidColumns c, long eventId, long timestamp)
    {
        long auction = _random.Next(_config.HotAuctionRatio) > 0
            ? LastAuctionId(eventId) / HotRatio * HotRatio
            : NextAuctionId(eventId);
        long bidder = _random.Next(_config.HotBiddersRatio) > 0
            ? LastPersonId(eventId) / HotRatio * HotRatio + 1
            : NextPersonId(eventId);
        c.Auction.Append(auction + FirstAuctionId);
        c.Bidder.Append(bidder + FirstPersonId);
        c.Price.Append(NextPrice());
        if (_random.Next(2) > 0)
        {
            int i = _random.Next(HotChannels.Length);
            c.Channel.Append(HotChannels[i]);
            c.Url.Append(_hotUrls[i]);
        }
        else
        {
            int i = _random.Next(Channels);
            c.Channel.Append("channel-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            c.Url.Append(_channelUrls[i]);
        }
        c.Time.Append(DateTimeOffset.FromUnixTimeMilliseconds(timestamp));
        c.Extra.Append(Extra(32, _config.AverageBidBytes));
    }

    private static long LastPersonId(long eventId)
    {
        long epoch = eventId / TotalProportion;
        long offset = Math.Min(eventId % TotalProportion, PersonProportion - 1);
        return epoch * PersonProportion + offset;
    }

    private static long LastAuctionId(long eventId)
    {
        long epoch = eventId / TotalProportion;
        long offset = eventId % TotalProportion;
        if (offset < PersonProportion) { epoch--; offset = AuctionProportion - 1; }
        else if (offset >= PersonProportion + AuctionProportion) offset = AuctionProportion - 1;
        else offset -= PersonProportion;
        return epoch * AuctionProportion + offset;
    }

    /// <summary>A person among the most recent active ones, or one about to join.</summary>
    private long NextPersonId(long eventId)
    {
        long people = LastPersonId(eventId) + 1;
        long active = Math.Min(people, _config.ActivePeople);
        return people - active + _random.NextInt64(active + IdLead);
    }

    /// <summary>An auction among those in flight, or one about to open.</summary>
    private long NextAuctionId(long eventId)
    {
        long last = LastAuctionId(eventId);
        long min = Math.Max(last - _config.InFlightAuctions, 0);
        return min + _random.NextInt64(last - min + 1 + IdLead);
    }

    private long NextPrice() => (long)Math.Round(Math.Pow(10.0, _random.NextDouble() * 6.0) * 100.0);

    private string BaseUrl() => "https://www.nexmark.com/" + RandomString(5, '_') + '/' + RandomString(5, '_') + '/' + RandomString(5, '_') + "/item.htm?query=1";

    private string RandomString(int maxLength, char special = ' ')
    {
        int length = 3 + _random.Next(maxLength - 3);
        Span<char> chars = stackalloc char[length];
        for (int i = 0; i < length; i++)
            chars[i] = _random.Next(13) == 0 ? special : (char)('a' + _random.Next(26));
        return new string(chars.Trim());
    }

    private string RandomLetters(int length) => string.Create(length, _random, static (span, random) =>
    {
        for (int i = 0; i < span.Length; i++) span[i] = (char)('a' + random.Next(26));
    });

    /// <summary>Padding that brings the record to about the configured average size (within ±20%).</summary>
    private string Extra(int currentSize, int averageSize)
    {
        if (currentSize > averageSize) return "";
        int wanted = averageSize - currentSize;
        int delta = (int)Math.Round(wanted * 0.2);
        int size = wanted - delta + (delta == 0 ? 0 : _random.Next(2 * delta));
        return _extraSource.Substring(_random.Next(_extraSource.Length - size), size);
    }

    private static int ReverseBits(int value)
    {
        uint v = (uint)value, r = 0;
        for (int i = 0; i < 32; i++) { r = (r << 1) | (v & 1); v >>= 1; }
        return (int)r;
    }

    private sealed class PersonColumns
    {
        public readonly Int64Array.Builder Id = new();
        public readonly StringArray.Builder Name = new(), Email = new(), Card = new(), City = new(), State = new(), Extra = new();
        public readonly TimestampArray.Builder Time = new(TimeType);

        public RecordBatch Build() => new(PersonSchema,
            [Id.Build(), Name.Build(), Email.Build(), Card.Build(), City.Build(), State.Build(), Time.Build(), Extra.Build()], Id.Length);
    }

    private sealed class AuctionColumns
    {
        public readonly Int64Array.Builder Id = new(), InitialBid = new(), Reserve = new(), Seller = new(), Category = new();
        public readonly StringArray.Builder ItemName = new(), Description = new(), Extra = new();
        public readonly TimestampArray.Builder Time = new(TimeType), Expires = new(TimeType);

        public RecordBatch Build() => new(AuctionSchema,
            [Id.Build(), ItemName.Build(), Description.Build(), InitialBid.Build(), Reserve.Build(), Time.Build(), Expires.Build(), Seller.Build(), Category.Build(), Extra.Build()], Id.Length);
    }

    private sealed class BidColumns
    {
        public readonly Int64Array.Builder Auction = new(), Bidder = new(), Price = new();
        public readonly StringArray.Builder Channel = new(), Url = new(), Extra = new();
        public readonly TimestampArray.Builder Time = new(TimeType);

        public RecordBatch Build() => new(BidSchema,
            [Auction.Build(), Bidder.Build(), Price.Build(), Channel.Build(), Url.Build(), Time.Build(), Extra.Build()], Auction.Length);
    }
}

internal enum NexmarkEventKind { Person, Auction, Bid }

/// <summary>One slice of the event sequence, split by kind.</summary>
internal sealed record NexmarkBatches(RecordBatch Persons, RecordBatch Auctions, RecordBatch Bids);

/// <summary>The reference generator's defaults (NexmarkConfiguration), with a seed.</summary>
internal sealed record NexmarkConfig
{
    public int Seed { get; init; } = 20261205;
    public long BaseTimeMs { get; init; } = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    /// <summary>Event-time rate: events per second of event time (the reference's firstEventRate).</summary>
    public int EventsPerSecond { get; init; } = 10_000;
    public int HotAuctionRatio { get; init; } = 2;
    public int HotSellersRatio { get; init; } = 4;
    public int HotBiddersRatio { get; init; } = 4;
    public int InFlightAuctions { get; init; } = 100;
    public int ActivePeople { get; init; } = 1000;
    public int AveragePersonBytes { get; init; } = 200;
    public int AverageAuctionBytes { get; init; } = 500;
    public int AverageBidBytes { get; init; } = 100;
}
