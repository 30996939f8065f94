module github.com/AndrewDonelson/strata/migrate

go 1.24
