// The filter-options document builder (core/filter_options.*): byte order, the provider rule
// with an own field, identity of the latest entry, users only with a username.
#include "core/filter_options.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ut_filter_options_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

TEST(FilterOptions, ByteOrderProvidersAndIdentity)
{
    FilterOptionsBuilder b(std::pmr::get_default_resource());
    std::string_view mistral = "mistralai";
    b.model("gpt-4o", nullptr);
    b.model("Zeta/x", nullptr);  // upper case sorts first in byte order
    b.model("mistral-7b", &mistral);
    b.model("gpt-4o", nullptr);  // seen again: one entry
    std::string_view ada = "ada", old = "ada-old", mail = "a@x";
    b.identity("u2", &old, &mail);
    b.identity("u2", &ada, nullptr);  // latest wins; no email -> ""
    b.user_seen("u2");
    std::string_view bob = "Bob";
    b.identity("u1", &bob, &mail);
    b.user_seen("u1");
    b.user_seen("u3");  // seen under a model with a username, no aggregated_by_user entry
    EXPECT_EQ(b.document(),
              "{\"models\":[{\"id\":\"Zeta/x\",\"name\":\"Zeta/x\",\"provider\":\"Zeta\"},"
              "{\"id\":\"gpt-4o\",\"name\":\"gpt-4o\",\"provider\":\"openai\"},"
              "{\"id\":\"mistral-7b\",\"name\":\"mistral-7b\",\"provider\":\"mistralai\"}],"
              "\"users\":[{\"userId\":\"u3\",\"username\":null,\"email\":\"\"},"
              "{\"userId\":\"u1\",\"username\":\"Bob\",\"email\":\"a@x\"},"
              "{\"userId\":\"u2\",\"username\":\"ada\",\"email\":\"\"}]}");
}

}  // namespace ut_filter_options_test
