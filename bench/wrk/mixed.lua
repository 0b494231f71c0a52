-- The soak: a rotation of reads by a citizen and an admin, and one sign-in in every 50 requests.
dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")

local citizen = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_AUTH") }
local admin = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_ADMIN_AUTH") }
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local rotation = {
  { "GET", "/users/me", citizen },
  { "GET", "/health", {} },
  { "GET", "/centers?city=City%2007", {} },
  { "GET", "/vaccinations/me", citizen },
  { "GET", "/vaccinations?status=pending", admin },
  { "GET", "/vaccines", {} },
  { "GET", "/users/me", citizen },
  { "GET", "/vaccinations?status=rejected&page=3", admin },
  { "GET", "/cities", {} },
  { "GET", "/users/me", citizen },
}
local counter = 0

function request()
  counter = counter + 1
  if counter % 50 == 0 then
    return wrk.format("POST", "/auth/token", form, os.getenv("BENCH_SIGN_IN_FORM"))
  end
  local item = rotation[counter % #rotation + 1]
  return wrk.format(item[1], item[2], item[3])
end
