// Walks JSONB binary containers in place, with the layout macros of utils/jsonb.h: no
// JsonbIterator, no JsonbValue, no allocation. An object's JEntries are all keys first (sorted
// by length, then bytes), then all values; offsets run over both in that order.
#pragma once

#include "pg/postgres.hpp"

#include <string_view>

namespace ducache::pg {

struct JsonbItem {
    uint32 type;       // JENTRY_IS* bits
    const char *data;  // string bytes, or the int-aligned numeric / container
    uint32 len;        // bytes of the string, numeric or container
};

inline bool item_is_object(const JsonbItem &it)
{
    return it.type == JENTRY_ISCONTAINER &&
           JsonContainerIsObject(reinterpret_cast<const JsonbContainer *>(it.data));
}

class ObjectWalker {
public:
    explicit ObjectWalker(const JsonbContainer *c)
        : c_(c), count_(JsonContainerSize(c)),
          base_(reinterpret_cast<const char *>(&c->children[count_ * 2]))
    {
        // The keys' lengths add up to where the values start: one pass over the key JEntries,
        // inlined (calling getJsonbOffset for it cost more per entry object than the walk).
        for (uint32 i = 0; i < count_; i++)
            JBE_ADVANCE_OFFSET(val_off_, c->children[i]);
        keys_len_ = val_off_;
    }
    uint32 size() const { return count_; }
    const JsonbContainer *container() const { return c_; }
    const char *data_area() const { return base_; }
    // All key bytes lie back to back at the start of the data area; the keys' JEntries hold
    // their lengths (together they identify the key set exactly).
    const char *key_bytes() const { return base_; }
    const JEntry *key_entries() const { return c_->children; }
    uint32 key_bytes_len() const { return keys_len_; }

    bool next(JsonbItem &key, JsonbItem &val)
    {
        if (i_ >= count_)
            return false;
        read(i_, key_off_, key);
        read(i_ + count_, val_off_, val);
        i_++;
        return true;
    }

    // The data-area bytes [start, end) of the value next() returns next; false after the last.
    bool peek_value(uint32 &start, uint32 &end) const
    {
        if (i_ >= count_)
            return false;
        start = end = val_off_;
        JBE_ADVANCE_OFFSET(end, c_->children[i_ + count_]);
        return true;
    }

    // Bytes [start, end) of the data area as the item of JEntry `je`.
    static void item(const char *base, JEntry je, uint32 start, uint32 end, JsonbItem &out)
    {
        out.type = je & JENTRY_TYPEMASK;
        // Numerics and containers start int-aligned; the JEntry length counts the padding.
        uint32 data_start = (out.type == JENTRY_ISNUMERIC || out.type == JENTRY_ISCONTAINER) ? INTALIGN(start) : start;
        out.data = base + data_start;
        out.len = end - data_start;
    }

private:
    void read(uint32 index, uint32 &offset, JsonbItem &out) const
    {
        JEntry je = c_->children[index];
        uint32 start = offset;
        JBE_ADVANCE_OFFSET(offset, je);
        item(base_, je, start, offset, out);
    }

    const JsonbContainer *c_;
    uint32 count_;
    const char *base_;
    uint32 key_off_ = 0, val_off_ = 0, keys_len_ = 0, i_ = 0;
};

// Random access to an object's values (and, rarely needed, its keys) by member index. Small
// objects get every value offset in one pass; big ones ask getJsonbOffset per lookup.
class ObjectValues {
public:
    static constexpr uint32 kTable = 32;
    explicit ObjectValues(const ObjectWalker &w)
        : c_(w.container()), base_(w.data_area()), count_(w.size()), keys_len_(w.key_bytes_len())
    {
        if (count_ > kTable)
            return;
        uint32 off = keys_len_;
        for (uint32 i = 0; i < count_; i++) {
            start_[i] = off;
            JBE_ADVANCE_OFFSET(off, c_->children[count_ + i]);
        }
        start_[count_] = off;
    }
    // The same without a walker: a big object's keys are not summed (its lookups ask
    // getJsonbOffset), so a binary search of a few of its keys reads O(log n) JEntries, not n
    // (the top key's pass over the rollup rows' key_totals, pg/dashboard_top_key.cpp).
    explicit ObjectValues(const JsonbContainer *c)
        : c_(c), base_(reinterpret_cast<const char *>(&c->children[JsonContainerSize(c) * 2])),
          count_(JsonContainerSize(c)), keys_len_(0)
    {
        if (count_ > kTable)
            return;
        for (uint32 i = 0; i < count_; i++)
            JBE_ADVANCE_OFFSET(keys_len_, c->children[i]);
        uint32 off = keys_len_;
        for (uint32 i = 0; i < count_; i++) {
            start_[i] = off;
            JBE_ADVANCE_OFFSET(off, c_->children[count_ + i]);
        }
        start_[count_] = off;
    }
    uint32 size() const { return count_; }
    uint32 type(uint32 i) const { return c_->children[count_ + i] & JENTRY_TYPEMASK; }
    JsonbItem value(uint32 i) const
    {
        JsonbItem out;
        if (count_ <= kTable)
            ObjectWalker::item(base_, c_->children[count_ + i], start_[i], start_[i + 1], out);
        else
            member(count_ + i, out);
        return out;
    }
    std::string_view key(uint32 i) const
    {
        JsonbItem out;
        member(i, out);
        return {out.data, out.len};
    }

private:
    void member(uint32 index, JsonbItem &out) const
    {
        uint32 start = getJsonbOffset(c_, int(index));
        ObjectWalker::item(base_, c_->children[index], start, start + getJsonbLength(c_, int(index)), out);
    }

    const JsonbContainer *c_;
    const char *base_;
    uint32 count_, keys_len_;
    uint32 start_[kTable + 1];
};

}  // namespace ducache::pg
